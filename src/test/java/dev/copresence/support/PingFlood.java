package dev.copresence.support;

import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.awaitility.Awaitility;

/**
 * A client's WebSocket pings, sent from a thread of their own as fast as the socket takes them,
 * while the test reads nothing: Vert.x answers each with a pong, and once those fill the socket
 * the node stops reading the client, so that the pinger's writes stand still.
 */
public final class PingFlood implements AutoCloseable {
    private final AtomicLong sent = new AtomicLong();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicReference<RuntimeException> writeFailed = new AtomicReference<>();
    private final Thread pinger;

    private PingFlood(RawWebSocket client) {
        pinger = new Thread(() -> {
            byte[] payload = new byte[125];
            try {
                while (!stop.get()) {
                    client.ping(payload); // blocks once neither the node nor the kernel takes more
                    sent.incrementAndGet();
                }
            } catch (RuntimeException e) {
                writeFailed.set(e);
            }
        }, "pinger");
        pinger.setDaemon(true);
    }

    public static PingFlood start(RawWebSocket client) {
        PingFlood flood = new PingFlood(client);
        flood.pinger.start();
        return flood;
    }

    /** Waits until no ping has gone out for 2 s, the pinger waiting to write (not failed). */
    public void awaitStalled() {
        long[] seen = { -1 };
        Awaitility.await("the node stops reading the client, so its pings stop going out")
                .pollInterval(Duration.ofMillis(100)).during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(30))
                .until(() -> {
                    long now = sent.get();
                    boolean standing = now == seen[0];
                    seen[0] = now;
                    return standing;
                });
        assertNull(writeFailed.get(), "the pinger is waiting to write, not failed");
    }

    /** Pings written so far. */
    public long sent() {
        return sent.get();
    }

    /** The write that failed, if one did (the connection ended under it). */
    public RuntimeException writeFailed() {
        return writeFailed.get();
    }

    /** True once the pinger has stopped, after a {@link #close}, waiting up to {@code millis} for it. */
    public boolean stopped(long millis) throws InterruptedException {
        pinger.join(millis);
        return !pinger.isAlive();
    }

    /** Sends no more pings (the one being written, if any, still goes). */
    @Override
    public void close() {
        stop.set(true);
    }
}
