package dev.copresence.flow;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * The drain tasks a fan-out starts, handed to each socket's event loop together once the fan-out is
 * over: one task (and at most one wake-up) per event loop and event, rather than one per socket.
 * <p>
 * Why: a fan-out runs on one event loop and hands a drain to every member's socket, half of which,
 * with two loops, belong to the other loop. Handed one at a time, every task could wake that loop,
 * and where both loops share a CPU (Quarkus starts two per processor) each wake-up switched the CPU
 * to it for the few drains queued so far and back: 1,000 subscribers cost the server about 50 context
 * switches per event where raw Vert.x, writing from one loop, had 3 (docs/benchmarks.md, {@code run19}).
 * Nothing is written later than before: a drain handed over during a fan-out ran after it anyway
 * on its own loop, and on another loop it now starts when the fan-out ends, a loop over the members.
 * <p>
 * Thread-confined: a fan-out collects on the thread that runs it; nested fan-outs join the outer one.
 */
public final class Handoff {
    private static final ThreadLocal<Handoff> OPEN = new ThreadLocal<>();

    /** Each loop met so far and its tasks, in the order met: a node has a few loops, so a list is enough. */
    private final List<Executor> loops = new ArrayList<>(4);
    private final List<Batch> batches = new ArrayList<>(4);

    private Handoff() {
    }

    /** Runs a fan-out: the tasks it gives {@link #execute} reach their loops when it returns (or throws). */
    public static void fanOut(Runnable deliveries) {
        if (OPEN.get() != null) {
            deliveries.run();
            return;
        }
        Handoff open = new Handoff();
        OPEN.set(open);
        Throwable failed = null;
        try {
            deliveries.run();
        } catch (RuntimeException | Error e) {
            failed = e;
            throw e;
        } finally {
            OPEN.remove();
            try {
                open.handOver();
            } catch (RuntimeException e) {
                if (failed == null) {
                    throw e;
                }
                failed.addSuppressed(e);
            }
        }
    }

    /** Runs {@code task} on {@code loop}: now, or with the rest of the fan-out under way on this thread. */
    public static void execute(Executor loop, Runnable task) {
        Handoff open = OPEN.get();
        if (open == null) {
            loop.execute(task);
        } else {
            open.add(loop, task);
        }
    }

    private void add(Executor loop, Runnable task) {
        for (int i = 0; i < loops.size(); i++) {
            if (loops.get(i) == loop) {
                batches.get(i).tasks.add(task);
                return;
            }
        }
        loops.add(loop);
        Batch batch = new Batch();
        batch.tasks.add(task);
        batches.add(batch);
    }

    private void handOver() {
        RuntimeException first = null;
        for (int i = 0; i < loops.size(); i++) {
            try {
                loops.get(i).execute(batches.get(i));
            } catch (RuntimeException e) { // a loop shutting down refuses: the others still get theirs
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** One loop's tasks of one fan-out: each runs even if another throws (the first is rethrown, for the loop to report). */
    private static final class Batch implements Runnable {
        final List<Runnable> tasks = new ArrayList<>();

        @Override
        public void run() {
            RuntimeException first = null;
            for (Runnable task : tasks) {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }
}
