package dev.copresence.transport;

import java.util.Set;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import io.micrometer.core.instrument.config.MeterFilter;

/**
 * Micrometer's Vert.x binder times each open TCP connection, and each WebSocket again, with a
 * long-task timer: a sample per connection for as long as it is open, about 0.18 KiB of heap each,
 * two per idle WebSocket (docs/benchmarks.md, "Idle memory"). What they count is counted without
 * them ({@code copresence_connections}, {@code http_server_active_connections}), so both timers are
 * denied where every meter is made, in the global registry: a denied timer hands out an empty
 * 16-byte sample per connection instead. The HTTP request metrics, upgrades included, stay.
 */
@Singleton
final class ConnectionMeters {
    /** The two timers' names (Prometheus: {@code http_server_connections_seconds}, {@code http_server_websocket_connections_seconds}). */
    private static final Set<String> DENIED = Set.of("http.server.connections", "http.server.websocket.connections");

    @Produces
    @Singleton
    MeterFilter noTimerPerConnection() {
        return MeterFilter.deny(id -> DENIED.contains(id.getName()));
    }
}
