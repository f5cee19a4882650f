package dev.copresence.bench;

import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * How fast the machine is at the moment, measured on the server's CPU right before each run, so
 * that runs taken while a shared VM was slow can be told from runs where a system was dear: the time
 * of a load in a random walk through 32 MiB (past L2; where the host's L3 is larger, the guest's
 * share of it as much as memory) and through 256 KiB (L2). On `run15`'s VM, with nothing else
 * running, the first moved between 37 and 136 ns within two minutes (docs/benchmarks.md). Prints
 * "MEMORY_NS L2_NS".
 */
final class MachineCheck {
    private MachineCheck() {
    }

    static void print(Map<String, String> o) {
        boolean quick = o.containsKey("quick");
        double memory = nanosPerLoad(8 << 20, quick ? 500_000 : 10_000_000);
        double l2 = nanosPerLoad(64 << 10, quick ? 1_000_000 : 20_000_000);
        System.out.printf(Locale.ROOT, "%.1f %.2f%n", memory, l2);
    }

    /** Nanoseconds per step of a walk through {@code ints} ints in one random cycle (Sattolo's shuffle). */
    static double nanosPerLoad(int ints, int steps) {
        int[] next = new int[ints];
        for (int i = 0; i < ints; i++) {
            next[i] = i;
        }
        SplittableRandom random = new SplittableRandom(1);
        for (int i = ints - 1; i > 0; i--) {
            int j = random.nextInt(i);
            int t = next[i];
            next[i] = next[j];
            next[j] = t;
        }
        int at = walk(next, 0, steps / 5); // compiled, and every page touched, before the clock starts
        long start = System.nanoTime();
        at = walk(next, at, steps);
        long took = System.nanoTime() - start;
        return at < 0 ? -1 : (double) took / steps; // reading the end keeps the walk from being optimised away
    }

    private static int walk(int[] next, int from, int steps) {
        int at = from;
        for (int i = 0; i < steps; i++) {
            at = next[at];
        }
        return at;
    }
}
