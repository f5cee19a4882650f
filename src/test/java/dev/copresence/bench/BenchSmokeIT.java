package dev.copresence.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Every benchmark scenario, run with tiny numbers ({@code bench/run.sh SCENARIO --smoke}) against
 * every system, so that the benchmark suite cannot rot; fanout also in observer mode
 * ({@code --observers}: SSE for Copresence, a silent room join for the peers), and once with {@code --repeat 2}
 * (the medians of two interleaved runs), and once with {@code --together --repeat 2} (two systems measured at
 * the same time, twice). It checks that each run completes and that
 * its JSON is sane (connections opened, deliveries made, nothing lost at this load), never timings.
 * Copresence and the raw Vert.x peer must always run; the Node peers are skipped, with the reason,
 * when npm could not install them. Skip the whole suite with {@code -Dbench.smoke.skip=true}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the scenarios' first run builds the bench jars
class BenchSmokeIT {
    static final ObjectMapper JSON = new ObjectMapper();
    /** One smoke run: its name (and output directory), the run.sh scenario, and extra options. */
    record Run(String name, String scenario, List<String> options) {
        boolean observers() {
            return options.contains("--observers");
        }

        boolean together() {
            return options.contains("--together");
        }

        Path out(Path root) {
            return root.resolve("target/bench-smoke/" + name);
        }

        Path log(Path root) {
            return out(root).resolve("run.log");
        }

        List<String> command(Path root) {
            List<String> command = new ArrayList<>(List.of("bash", "bench/run.sh", scenario, "--smoke", "--out", out(root).toString()));
            command.addAll(options);
            return command;
        }

        int repeats() {
            int i = options.indexOf("--repeat");
            return i < 0 ? 1 : Integer.parseInt(options.get(i + 1));
        }
    }

    /** The longest first, so that no slot is left with a long run at the end while the others wait. */
    static final List<Run> RUNS = List.of(new Run("fanout-repeat", "fanout", List.of("--repeat", "2", "--systems", "copresence,vertx")),
            new Run("cursors", "cursors", List.of()), new Run("idle", "idle", List.of()),
            new Run("fanout-observers", "fanout", List.of("--observers")), new Run("fanout", "fanout", List.of()),
            new Run("fanout-together", "fanout", List.of("--together", "--repeat", "2", "--systems", "copresence,vertx")),
            new Run("churn", "churn", List.of()), new Run("fanout-2nodes", "fanout-2nodes", List.of()));
    static final Set<String> JVM_SYSTEMS = Set.of("copresence", "copresence-2n", "vertx");
    static final Set<String> NODE_SYSTEMS = Set.of("ws", "socketio", "socketio-redis", "socketio-2n");

    /** The project's root, where the bench scripts run; aborts the tests without a built service. */
    static Path projectRoot() {
        Assumptions.assumeFalse(Boolean.getBoolean("bench.smoke.skip"), "bench.smoke.skip=true");
        Path root = Path.of("").toAbsolutePath();
        Assumptions.assumeTrue(Files.exists(root.resolve("target/quarkus-app/quarkus-run.jar")),
                "target/quarkus-app/quarkus-run.jar is missing: run through `./mvnw verify`");
        return root;
    }

    /** Starts a command in the project's root, its output to {@code log}, with extra environment. */
    static Process start(Path root, List<String> command, Path log, Map<String, String> env) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(env);
        return builder.start();
    }

    /**
     * The exit code of a started command, or -1 if it had not ended 420 s after this call (a run may
     * first wait for another's build of the bench jars); a command left, or waited for by an
     * interrupted thread, is stopped with everything it started.
     */
    static int exitOf(Process p) throws InterruptedException {
        try {
            if (p.waitFor(420, TimeUnit.SECONDS)) {
                return p.exitValue();
            }
            stop(p);
            return -1;
        } catch (InterruptedException e) {
            stop(p);
            throw e;
        }
    }

    /** Stops a command and what it started, by force what is still there 5 s later (the next run may need its ports). */
    static void stop(Process p) {
        List<ProcessHandle> all = new ArrayList<>(p.descendants().toList());
        all.add(p.toHandle());
        all.forEach(ProcessHandle::destroy);
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception stillThere) {
                h.destroyForcibly();
            }
        }
    }

    /** How many smoke runs go at once. */
    static final int SLOTS = 4;

    /**
     * The environment of one of the commands at once. Its ports: a quarter each of the range from
     * {@code BENCH_PORT_BASE} (20000, 9000 ports), so that a second checkout running this test at the same
     * time can be given another base. Its CPUs: run.sh puts servers on one and load on the other; every
     * other slot swaps them, or all four servers' start-ups would queue on one CPU while the drivers'
     * stayed half idle.
     */
    static Map<String, String> slotEnv(int slot) {
        int base = Integer.parseInt(System.getenv().getOrDefault("BENCH_PORT_BASE", "20000"));
        int span = Integer.parseInt(System.getenv().getOrDefault("BENCH_PORT_SPAN", "9000")) / SLOTS;
        return Map.of("BENCH_PORT_BASE", String.valueOf(base + slot * span), "BENCH_PORT_SPAN", String.valueOf(span),
                "BENCH_SERVER_CPU", String.valueOf(slot % 2), "BENCH_LOAD_CPU", String.valueOf(1 - slot % 2));
    }

    /**
     * Runs one smoke run to its end: its output directory emptied first (a stale result must not pass
     * for this run's), its log in it. Its exit code, -1 past 420 s.
     */
    static int runToEnd(Path root, Run run, int slot) throws IOException, InterruptedException {
        Path out = run.out(root);
        deleteTree(out);
        Files.createDirectories(out);
        // each of the runs at once takes its servers' ports from a range of its own
        return exitOf(start(root, run.command(root), run.log(root), slotEnv(slot)));
    }

    @TestFactory
    @Order(1)
    Stream<DynamicNode> everyScenarioRunsAndMakesSense() throws Exception {
        Path root = projectRoot();
        // Four runs at a time: at these loads their servers (CPU 0) and drivers (CPU 1) are mostly waiting,
        // and one after another they were a third of the whole suite's time. The first to start builds the
        // driver and the Vert.x peer and installs the Node peers; run.sh makes the other wait for that
        // (a lock), then finds them built.
        Map<Run, Integer> exits = new HashMap<>();
        BlockingQueue<Integer> slots = new ArrayBlockingQueue<>(SLOTS, false, IntStream.range(0, SLOTS).boxed().toList());
        ExecutorService pool = Executors.newFixedThreadPool(slots.size());
        try {
            Map<Run, Future<Integer>> pending = new LinkedHashMap<>();
            for (Run run : RUNS) {
                pending.put(run, pool.submit(() -> {
                    int slot = slots.take();
                    try {
                        return runToEnd(root, run, slot);
                    } finally {
                        slots.add(slot);
                    }
                }));
            }
            for (Map.Entry<Run, Future<Integer>> exit : pending.entrySet()) {
                exits.put(exit.getKey(), exit.getValue().get());
            }
        } finally {
            pool.shutdownNow();
        }
        List<DynamicNode> nodes = new ArrayList<>();
        for (Run run : RUNS) {
            String scenario = run.scenario();
            Path out = run.out(root);
            Path log = run.log(root);
            List<String> command = run.command(root);
            int exit = exits.get(run);
            List<DynamicNode> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest("run.sh exits 0", () -> assertEquals(0, exit,
                    String.join(" ", command.subList(1, command.size())) + " failed; its log:\n" + Files.readString(log))));
            File[] results = out.toFile().listFiles((d, n) -> n.endsWith(".json"));
            List<String> systems = new ArrayList<>();
            for (File f : results == null ? new File[0] : results) {
                JsonNode j = JSON.readTree(f);
                String system = j.path("system").asText();
                systems.add(system);
                tests.add(DynamicTest.dynamicTest(system, () -> check(run, system, j, log)));
            }
            List<String> must = scenario.equals("churn") || scenario.equals("fanout-2nodes") ? List.of("copresence-2n")
                    : List.of("copresence", "vertx");
            tests.add(DynamicTest.dynamicTest("Copresence and Vert.x ran", () -> assertTrue(systems.containsAll(must),
                    "ran " + systems + ", expected at least " + must)));
            nodes.add(DynamicContainer.dynamicContainer(run.name(), tests));
        }
        return nodes.stream();
    }

    static void check(Run run, String system, JsonNode j, Path log) throws IOException {
        String scenario = run.scenario();
        if (j.has("skipped")) {
            if (NODE_SYSTEMS.contains(system)) {
                Assumptions.abort(system + " skipped: " + j.get("skipped").asText()
                        + " (npm could not install bench/peers; Copresence and Vert.x still ran)");
            }
            fail(system + " was skipped: " + j.get("skipped").asText());
        }
        assertFalse(j.path("failed").asBoolean(false), () -> system + " failed; log:\n" + read(log));
        assertEquals(scenario, j.path("scenario").asText());
        assertTrue(j.path("machineMemoryLatencyNs").asDouble() > 0, "no machine check before the run");
        assertTrue(j.path("machineMemoryLatencyNsAfter").asDouble() > 0, "no machine check after the run");
        assertEquals(run.observers(), j.path("observers").asBoolean(false), "\"observers\" in the JSON");
        if (run.observers()) {
            // every subscriber got in as an observer (the SSE stream answered, or the peer acked)
            assertTrue(j.path("subscribers").asLong() > 0, "no subscriber");
            assertEquals(j.path("subscribers").asLong(), j.path("observing").asLong(), "subscribers not observing");
        }
        assertTrue(j.path("opened").asLong() > 0, "no connection opened");
        assertEquals(j.path("connections").asLong(), j.path("opened").asLong(), "connections not opened");
        assertEquals(0, j.path("connectFailures").asLong(), "connect failures");
        assertEquals(0, j.path("unexpectedCloses").asLong(), () -> "closed by the server: " + j.path("closeCodes"));
        assertEquals(0, j.path("errors").asLong(), () -> "errors from the server: " + j.path("errorCodes"));
        JsonNode step = j.path("steps").path(0);
        if (run.together()) {
            // each run names the other it ran beside, and they published in turn, the phases swapping from round to round
            String other = system.equals("copresence") ? "vertx" : "copresence";
            assertEquals(other, j.path("together").asText(), "\"together\" in the JSON");
            for (int round = 1; round <= run.repeats(); round++) {
                JsonNode single = JSON.readTree(log.resolveSibling("runs/fanout-" + system + "-" + j.path("size").asText() + ".r" + round + ".json").toFile());
                assertEquals(other, single.path("together").asText(), "\"together\" in round " + round);
                double phase = (round % 2 == 1) == system.equals("copresence") ? 0.0 : 0.5;
                assertEquals(phase, single.path("phase").asDouble(-1), "\"phase\" in round " + round);
            }
        }
        if (run.repeats() > 1) {
            // medians of every run, each run's figures beside them
            assertEquals(run.repeats(), j.path("repeats").asInt(), "runs folded into the medians");
            assertEquals(0, j.path("runsFailed").asInt(), "failed runs");
            assertEquals(run.repeats(), step.path("runs").path("serverCpuUsPerDelivery").size(), () -> "each run's CPU: " + step);
        }
        switch (scenario) {
            case "idle" -> {
                assertTrue(j.path("serverRssLoadedKiB").asLong() > 0, "no server RSS");
                assertTrue(j.path("connectRate").asDouble() > 0, "no connect rate");
                assertTrue(j.path("idleServerCpuMsPerSec").isNumber(), "no server CPU while idle");
            }
            case "fanout", "fanout-2nodes" -> {
                assertTrue(step.path("published").asLong() > 0, "nothing published");
                assertTrue(step.path("received").asLong() > 0, "nothing delivered");
                assertEquals(0, step.path("lost").asLong(), "lost deliveries at a tiny load");
                assertTrue(step.path("p99ms").asDouble() > 0, "no latency");
                assertTrue(step.path("serverCpuSeconds").isNumber(), "no server CPU");
                // the driver's own CPU, which says whether a latency was the server's or the driver's queue
                assertTrue(step.path("driverCpuPercent").asDouble(-1) >= 0, () -> "no driver CPU: " + step);
                if (JVM_SYSTEMS.contains(system)) {
                    // the JIT compiler's threads are found and are a part of the whole, never more
                    assertTrue(step.path("serverJitCpuSeconds").isNumber(), "no JIT CPU for a JVM server");
                    assertTrue(step.path("serverJitCpuSeconds").asDouble() <= step.path("serverCpuSeconds").asDouble(),
                            () -> "JIT CPU over the server's: " + step);
                }
            }
            case "churn" -> {
                assertTrue(step.path("opsCompleted").asLong() > 0, "no join or leave completed");
                assertTrue(step.path("joinsSeen").asLong() > 0, "no presence event seen");
                assertEquals(0, step.path("joinsNotSeen").asLong(), "joins the watchers never saw");
            }
            case "cursors" -> {
                assertTrue(step.path("published").asLong() > 0, "no update sent");
                assertTrue(step.path("received").asLong() > 0, "no update delivered");
                assertTrue(step.path("received").asLong() <= step.path("expected").asLong(), "more delivered than sent");
            }
            default -> fail("unknown scenario " + scenario);
        }
    }

    /**
     * {@code bench/idle-inside.sh} with small numbers, for both JVM servers: it runs and reports what
     * it is for. (500 connections: with fewer, the classes a JVM loads meanwhile outweigh them.)
     */
    @TestFactory
    @Order(2)
    Stream<DynamicTest> idleInsideReportsTheHeapsClassesAndTheThreadsCpu() throws Exception {
        Path root = projectRoot();
        // both at once (each measures its own server's heap and threads), unless the script would
        // build the bench jars first: two builds in one directory would trip over each other
        boolean built = Files.exists(root.resolve("bench/driver/target/bench-driver.jar"))
                && Files.exists(root.resolve("bench/vertx-peer/target/bench-vertx-peer.jar"));
        Map<String, Process> started = new HashMap<>();
        List<String> systems = List.of("copresence", "vertx");
        for (String system : systems) {
            Path log = idleInsideLog(root, system);
            Files.createDirectories(log.getParent());
            Process p = start(root, List.of("bash", "bench/idle-inside.sh", system, "500", "1", "1"), log,
                    slotEnv(systems.indexOf(system)));
            if (!built) {
                exitOf(p);
            }
            started.put(system, p);
        }
        return systems.stream().map(system -> DynamicTest.dynamicTest(system, () -> {
            Path log = idleInsideLog(root, system);
            int exit = exitOf(started.get(system));
            String output = read(log);
            assertEquals(0, exit, () -> "bench/idle-inside.sh " + system + " failed; its output:\n" + output);
            assertTrue(output.matches("(?s).*heap per connection \\(jmap -histo:live, filler arrays left out\\): \\d+ B.*"),
                    () -> "no heap per connection:\n" + output);
            assertTrue(output.contains(system.equals("copresence") ? "dev.copresence.channel.Session" : "VertxPeer$Member"),
                    () -> "the server's own per-connection class is not among those that grew:\n" + output);
            // the window is as long as it really was: a second asked for, two on a busy machine
            assertTrue(output.matches("(?s).*CPU while idle, \\d+ s: [0-9.]+ ms/s.*"), () -> "no idle CPU:\n" + output);
        }));
    }

    static Path idleInsideLog(Path root, String system) {
        return root.resolve("target/bench-smoke/idle-inside-" + system + ".log");
    }

    static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log)";
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> p.toFile().delete());
        }
    }
}
