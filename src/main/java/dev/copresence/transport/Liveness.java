package dev.copresence.transport;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import io.quarkus.runtime.Startup;

import io.quarkus.scheduler.Scheduled;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import dev.copresence.channel.Hubs;
import dev.copresence.channel.Session;
import dev.copresence.channel.StatusWatchers;
import dev.copresence.config.CopresenceConfig;

/**
 * Once a second: pings the clients due a ping (every {@code copresence.ping-interval}, to the tick),
 * closes connections that went silent (nothing at all received, pongs to the
 * server's pings included, for the idle timeout: 4408) or whose token expired (4401), and samples
 * the outbound queue of each socket it pings for metrics, letting its queues drop storage a burst
 * grew. Created at start-up: its gauges must be there for the first scrape, not only after the
 * scheduler's first run.
 */
@Startup
@Singleton
public final class Liveness {
    private final Connections connections;
    private final SocketMetrics metrics;
    private final MeterRegistry registry;
    private final List<Gauge> gauges;
    private final long idleNanos;
    /** A ping is due half a tick (of the 1 s below) before its period is up: the tick's jitter must not push it to the next. */
    private final long pingDueNanos;

    public Liveness(Connections connections, CopresenceConfig config, SocketMetrics metrics, MeterRegistry registry,
            Hubs hubs, StatusWatchers statusWatchers, SseStreams streams) {
        this.connections = connections;
        this.metrics = metrics;
        this.idleNanos = config.idleTimeout().toNanos();
        this.pingDueNanos = config.pingInterval().toNanos() - TimeUnit.SECONDS.toNanos(1) / 2;
        this.registry = registry;
        this.gauges = List.of(
                gauge("copresence.connections", connections, Connections::count, "Open connections"),
                gauge("copresence.documents", hubs, Hubs::documents, "Documents with members here"),
                gauge("copresence.observers", hubs, Hubs::observers, "Event streams and long polls following a document here"),
                gauge("copresence.status.observers", statusWatchers, StatusWatchers::statusObservers,
                        "Event streams following users' online status here"),
                gauge("copresence.members", hubs, Hubs::members, "Members held by this node"),
                gauge("copresence.sse.streams", streams, SseStreams::count, "Open event streams, documents' and status"));
    }

    private <T> Gauge gauge(String name, T source, ToDoubleFunction<T> value, String description) {
        return Gauge.builder(name, source, value).description(description).strongReference(true).register(registry);
    }

    /**
     * A gauge reads the objects it was registered with, and Micrometer's global registry outlives the
     * application: one started again in the same JVM (a test run) would be handed the old gauges,
     * reading the old application's hubs, unless these go with it.
     */
    @PreDestroy
    void removeGauges() {
        gauges.forEach(registry::remove);
    }

    @Scheduled(every = "1s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void closeIdle() {
        long now = System.nanoTime();
        long nowMillis = System.currentTimeMillis();
        for (SocketSink socket : connections.open()) {
            Session session = socket.session();
            if (now - session.lastReceivedNanos() > idleNanos) {
                session.closeIdle("idle timeout: nothing received for "
                        + TimeUnit.NANOSECONDS.toSeconds(idleNanos) + " s");
            } else if (nowMillis >= session.tokenExpiresAt()) {
                session.close(4401, "token expired");
            } else if (socket.pingDue(now, pingDueNanos)) {
                // sampled when the socket is pinged, not at every tick: a visit reads the queues only
                // once per ping period; they let go of storage a burst grew then too
                metrics.queueDepth(session.out().trimAndDepth());
                session.inbound().trim();
                socket.ping();
            }
        }
    }
}
