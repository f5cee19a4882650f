package dev.copresence.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * {@code median}: folds several runs of one system and size (bench/run.sh --repeat N) into one result
 * of the same shape, so that the report reads it as it reads a single run. On these VMs two runs of
 * one build differ by a fifth; a table of medians, with every run's figure kept beside it, is what
 * can carry a ratio.
 *
 * <p>Per step: what a run measured (latencies, CPU, rates) is the median over the runs; what went
 * wrong (lost deliveries, joins not seen, unexpected closes, failures) is added up, so that a loss in
 * any run shows; the highest rate held is the one held in every run. Each step also keeps every
 * run's figure of the values the tables compare, under {@code runs}.
 */
final class Repeats {
    /** Counts of what went wrong (or of everything that happened): added up over the runs, never a median. */
    private static final Set<String> SUMMED = Set.of("published", "received", "expected", "lost", "samples", "ops",
            "opsCompleted", "joinsSeen", "joinsNotSeen", "connectFailures", "unexpectedCloses", "errors");
    /** The values a table compares between systems: kept run by run as well, to show their spread. */
    private static final List<String> KEPT = List.of("serverCpuUsPerDelivery", "serverCpuUsPerDeliveryExJit",
            "serverCpuUsPerOp", "serverCpuUsPerOpExJit", "p99ms", "rssPerConnectionKiB", "heapPerConnectionKiB",
            "serverCpuUsPerDeliveryLoops", "serverCpuUsPerDeliveryGc", "serverCpuUsPerOpLoops", "serverCpuUsPerOpGc",
            "serverCtxSwitchesPer1000",
            "driverCtxSwitchesPer1000", "idleServerCpuMsPerSec", "driverCpuUsPerDelivery", "machineMemoryLatencyNs", "machineL2LatencyNs",
            "machineMemoryLatencyNsAfter", "machineL2LatencyNsAfter");
    /** What describes one run only (its phase beside another system, its server's processes): not folded. */
    private static final Set<String> PER_RUN = Set.of("phase", "serverPids");

    private Repeats() {
    }

    static void median(Map<String, String> o) throws IOException {
        List<JsonObject> runs = new ArrayList<>();
        for (String f : o.get("in").split(",")) {
            JsonObject run = new JsonObject(Files.readString(Path.of(f)));
            if (!run.getBoolean("failed", false) && !run.containsKey("skipped")) {
                runs.add(run);
            }
        }
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("no successful run among " + o.get("in"));
        }
        JsonObject r = fold(runs);
        r.put("repeats", runs.size()).put("runsFailed", o.get("in").split(",").length - runs.size());
        for (String list : List.of("warmup", "steps")) {
            if (runs.get(0).containsKey(list)) {
                JsonArray folded = new JsonArray();
                int n = runs.stream().mapToInt(x -> x.getJsonArray(list).size()).min().orElse(0);
                for (int k = 0; k < n; k++) {
                    int kk = k;
                    folded.add(fold(runs.stream().map(x -> x.getJsonArray(list).getJsonObject(kk)).toList()));
                }
                r.put(list, folded);
            }
        }
        if (r.containsKey("highestRateP99Under100ms")) {
            r.put("highestRateP99Under100ms", heldInEveryRun(runs));
        }
        Files.writeString(Path.of(o.get("out")), r.encodePrettily());
    }

    /**
     * One object from the same object of every run: medians, sums, and the first run's text. Every
     * run's fields count, so that a value one run lacks (a machine check that printed nothing) is a
     * gap in that run, not missing from all of them.
     */
    private static JsonObject fold(List<JsonObject> xs) {
        JsonObject r = new JsonObject();
        JsonObject runs = new JsonObject();
        Set<String> keys = new LinkedHashSet<>();
        xs.forEach(x -> keys.addAll(x.fieldNames()));
        for (String key : keys) {
            if (PER_RUN.contains(key)) {
                continue;
            }
            Object v = xs.stream().map(x -> x.getValue(key)).filter(Objects::nonNull).findFirst().orElse(null);
            if (v instanceof Number) {
                double[] values = xs.stream().mapToDouble(x -> x.getDouble(key, Double.NaN)).toArray();
                if (SUMMED.contains(key)) {
                    r.put(key, (long) Arrays.stream(values).filter(d -> !Double.isNaN(d)).sum());
                } else if (!Double.isNaN(median(values))) {
                    double m = median(values);
                    // counts and sizes stay whole numbers where every run's were
                    boolean whole = !(v instanceof Double || v instanceof Float) && m == Math.rint(m);
                    r.put(key, whole ? (Object) (long) m : Driver.Merge.round(m, 3));
                }
                if (KEPT.contains(key)) {
                    runs.put(key, new JsonArray(Arrays.stream(values).boxed().toList()));
                }
            } else if (key.equals("closeCodes") || key.equals("errorCodes")) {
                Map<String, Long> sum = new TreeMap<>();
                xs.forEach(x -> x.getJsonObject(key, new JsonObject())
                        .forEach(e -> sum.merge(e.getKey(), ((Number) e.getValue()).longValue(), Long::sum)));
                JsonObject codes = new JsonObject();
                sum.forEach(codes::put);
                r.put(key, codes);
            } else if (key.equals("loadBefore") || key.equals("loadAfter")) {
                // every run waited for its own quiet machine: say what each found
                r.put(key, String.join(" / ", xs.stream().map(x -> x.getString(key, "")).toList()));
            } else if (!(v instanceof JsonArray) && !(v instanceof JsonObject)) {
                r.put(key, v);
            }
        }
        if (!runs.isEmpty()) {
            r.put("runs", runs);
        }
        return r;
    }

    /** The highest rate at which every run kept p99 under 100 ms and lost nothing. */
    private static double heldInEveryRun(List<JsonObject> runs) {
        double best = 0;
        JsonArray first = runs.get(0).getJsonArray("steps");
        for (int k = 0; k < first.size(); k++) {
            boolean held = true;
            for (JsonObject run : runs) {
                JsonObject s = run.getJsonArray("steps").getJsonObject(k);
                held &= s.getDouble("p99ms") < 100 && s.getLong("lost", 0L) == 0 && s.getLong("received") > 0;
            }
            if (held) {
                best = Math.max(best, first.getJsonObject(k).getDouble("rate"));
            }
        }
        return best;
    }

    /** The median, NaNs (a run without the value) left out. */
    static double median(double[] values) {
        double[] v = Arrays.stream(values).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
