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
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Every benchmark scenario, run with tiny numbers ({@code bench/run.sh SCENARIO --smoke}) against
 * every system, so that the benchmark suite cannot rot. It checks that each run completes and that
 * its JSON is sane (connections opened, deliveries made, nothing lost at this load), never timings.
 * Copresence and the raw Vert.x peer must always run; the Node peers are skipped, with the reason,
 * when npm could not install them. Skip the whole suite with {@code -Dbench.smoke.skip=true}.
 */
class BenchSmokeIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> SCENARIOS = List.of("idle", "fanout", "churn", "cursors", "fanout-2nodes");
    static final Set<String> NODE_SYSTEMS = Set.of("ws", "socketio", "socketio-redis", "socketio-2n");

    @TestFactory
    Stream<DynamicNode> everyScenarioRunsAndMakesSense() throws Exception {
        Assumptions.assumeFalse(Boolean.getBoolean("bench.smoke.skip"), "bench.smoke.skip=true");
        Path root = Path.of("").toAbsolutePath();
        Assumptions.assumeTrue(Files.exists(root.resolve("target/quarkus-app/quarkus-run.jar")),
                "target/quarkus-app/quarkus-run.jar is missing: run through `./mvnw verify`");
        List<DynamicNode> nodes = new ArrayList<>();
        for (String scenario : SCENARIOS) {
            Path out = root.resolve("target/bench-smoke/" + scenario);
            deleteTree(out);
            Files.createDirectories(out);
            Path log = out.resolve("run.log");
            Process p = new ProcessBuilder("bash", "bench/run.sh", scenario, "--smoke", "--out", out.toString())
                    .directory(root.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean done = p.waitFor(240, TimeUnit.SECONDS);
            if (!done) {
                p.descendants().forEach(ProcessHandle::destroy);
                p.destroy();
            }
            int exit = done ? p.exitValue() : -1;
            List<DynamicNode> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest("run.sh exits 0", () -> assertEquals(0, exit,
                    "bench/run.sh " + scenario + " --smoke failed; its log:\n" + Files.readString(log))));
            File[] results = out.toFile().listFiles((d, n) -> n.endsWith(".json"));
            List<String> systems = new ArrayList<>();
            for (File f : results == null ? new File[0] : results) {
                JsonNode j = JSON.readTree(f);
                String system = j.path("system").asText();
                systems.add(system);
                tests.add(DynamicTest.dynamicTest(system, () -> check(scenario, system, j, log)));
            }
            List<String> must = scenario.equals("churn") || scenario.equals("fanout-2nodes") ? List.of("copresence-2n")
                    : List.of("copresence", "vertx");
            tests.add(DynamicTest.dynamicTest("Copresence and Vert.x ran", () -> assertTrue(systems.containsAll(must),
                    "ran " + systems + ", expected at least " + must)));
            nodes.add(DynamicContainer.dynamicContainer(scenario, tests));
        }
        return nodes.stream();
    }

    static void check(String scenario, String system, JsonNode j, Path log) throws IOException {
        if (j.has("skipped")) {
            if (NODE_SYSTEMS.contains(system)) {
                Assumptions.abort(system + " skipped: " + j.get("skipped").asText()
                        + " (npm could not install bench/peers; Copresence and Vert.x still ran)");
            }
            fail(system + " was skipped: " + j.get("skipped").asText());
        }
        assertFalse(j.path("failed").asBoolean(false), () -> system + " failed; log:\n" + read(log));
        assertEquals(scenario, j.path("scenario").asText());
        assertTrue(j.path("opened").asLong() > 0, "no connection opened");
        assertEquals(j.path("connections").asLong(), j.path("opened").asLong(), "connections not opened");
        assertEquals(0, j.path("connectFailures").asLong(), "connect failures");
        assertEquals(0, j.path("unexpectedCloses").asLong(), () -> "closed by the server: " + j.path("closeCodes"));
        assertEquals(0, j.path("errors").asLong(), () -> "errors from the server: " + j.path("errorCodes"));
        JsonNode step = j.path("steps").path(0);
        switch (scenario) {
            case "idle" -> {
                assertTrue(j.path("serverRssLoadedKiB").asLong() > 0, "no server RSS");
                assertTrue(j.path("connectRate").asDouble() > 0, "no connect rate");
            }
            case "fanout", "fanout-2nodes" -> {
                assertTrue(step.path("published").asLong() > 0, "nothing published");
                assertTrue(step.path("received").asLong() > 0, "nothing delivered");
                assertEquals(0, step.path("lost").asLong(), "lost deliveries at a tiny load");
                assertTrue(step.path("p99ms").asDouble() > 0, "no latency");
                assertTrue(step.path("serverCpuSeconds").isNumber(), "no server CPU");
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
