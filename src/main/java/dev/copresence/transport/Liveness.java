package dev.copresence.transport;

import java.util.concurrent.TimeUnit;

import jakarta.inject.Singleton;

import io.quarkus.scheduler.Scheduled;

import dev.copresence.channel.Session;
import dev.copresence.config.CopresenceConfig;

/**
 * Closes connections that went silent: nothing at all received (pongs to the server's pings count)
 * for the idle timeout gives close code 4408.
 */
@Singleton
public final class Liveness {
    private final Connections connections;
    private final long idleNanos;

    public Liveness(Connections connections, CopresenceConfig config) {
        this.connections = connections;
        this.idleNanos = config.idleTimeout().toNanos();
    }

    @Scheduled(every = "1s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void closeIdle() {
        long now = System.nanoTime();
        for (Session session : connections.sessions()) {
            if (now - session.lastReceivedNanos() > idleNanos) {
                session.close(4408, "idle timeout: nothing received for "
                        + TimeUnit.NANOSECONDS.toSeconds(idleNanos) + " s");
            }
        }
    }
}
