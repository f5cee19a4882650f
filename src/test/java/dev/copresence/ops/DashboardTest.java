package dev.copresence.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The Grafana dashboard (k8s/monitoring) is valid JSON and queries only metrics the service
 * exports: the agreed {@code copresence_*} names (Micrometer's Prometheus naming of the meters in
 * the operations issue), and the JVM, process and HTTP ones of Quarkus.
 */
class DashboardTest {
    static final Path DASHBOARD = Path.of("k8s", "monitoring", "copresence-dashboard.json");

    /** Meter base names as Prometheus sees them; counters end in _total, timers and summaries add suffixes. */
    static final Set<String> COPRESENCE = Set.of("copresence_connections", "copresence_documents", "copresence_members",
            "copresence_messages_in_total", "copresence_messages_out_total", "copresence_outbound_conflated_total",
            "copresence_outbound_slow_consumer_closes_total", "copresence_outbound_queue_depth",
            "copresence_inbound_rejected_total", "copresence_fanout_seconds", "copresence_redis_commands_seconds",
            "copresence_redis_errors_total", "copresence_reaped_members_total", "copresence_catchup_incomplete_total");
    static final Set<String> SUFFIXES = Set.of("", "_count", "_sum", "_max", "_bucket");
    /** Other series the panels read, and from where. */
    static final Set<String> PREFIXES = Set.of("jvm_", "process_", "http_server_", "kube_pod_", "up");

    /** Micrometer's per-connection timers, which the service turns off (transport/ConnectionMeters). */
    static final Set<String> NOT_EXPORTED = Set.of("http_server_connections_seconds", "http_server_websocket_connections_seconds");

    static final Pattern METRIC = Pattern.compile("\\b([a-z_][a-z0-9_]*)\\s*(\\{|\\[)");

    @Test
    void queriesOnlyMetricsTheServiceExports() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
        assertEquals("copresence", dashboard.get("uid").asText());
        List<String> expressions = new ArrayList<>();
        collect(dashboard.get("panels"), expressions);
        assertFalse(expressions.isEmpty(), "no queries");
        Set<String> used = new TreeSet<>();
        Set<String> unknown = new TreeSet<>();
        for (String expression : expressions) {
            Matcher m = METRIC.matcher(expression);
            while (m.find()) {
                String name = m.group(1);
                if (Set.of("by", "sum", "rate", "increase", "max", "count", "histogram_quantile", "without").contains(name)) {
                    continue;
                }
                used.add(name);
                boolean known = COPRESENCE.stream().anyMatch(base -> SUFFIXES.stream().anyMatch(s -> name.equals(base + s)))
                        || PREFIXES.stream().anyMatch(name::startsWith);
                if (!known || NOT_EXPORTED.stream().anyMatch(name::startsWith)) {
                    unknown.add(name);
                }
            }
        }
        assertTrue(unknown.isEmpty(), "the dashboard queries metrics nobody exports: " + unknown);
        for (String base : COPRESENCE) {
            assertTrue(used.stream().anyMatch(n -> n.startsWith(base.replaceAll("_total$", ""))), "no panel shows " + base);
        }
    }

    private static void collect(JsonNode panels, List<String> into) {
        for (JsonNode panel : panels) {
            for (JsonNode target : panel.path("targets")) {
                into.add(target.path("expr").asText());
            }
            collect(panel.path("panels"), into);
        }
    }
}
