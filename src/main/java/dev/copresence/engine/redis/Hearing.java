package dev.copresence.engine.redis;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Whether the node still hears its pub/sub connection. That connection only reads: when the path to
 * Redis dies without a word (the host of a Redis pod lost, a failover behind the same address, a
 * NAT or proxy that drops the flow), nothing is ever written on it that could fail, and the node
 * would stay subscribed to nothing, for good, while its commands, on other connections, go on. So
 * once a period the node publishes an echo, over its command connections, to a channel only it
 * subscribes to: once Redis has acknowledged it (so it was delivered to every subscriber Redis
 * knows) and it has still not arrived {@link #DEAF_AFTER} later, the connection counts as ended.
 * A Redis that does not answer the echo at all is not judged here: commands fail then too.
 */
final class Hearing {
    /**
     * How long an acknowledged echo may take to arrive. Redis writes it to the subscriber before it
     * answers the publisher, so this is slack for a node whose loops are busy: a false alarm costs a
     * reconnection and a catch-up, not a lost event.
     */
    static final Duration DEAF_AFTER = Duration.ofSeconds(3);

    private final String channel = RedisKeys.ECHO_CHANNEL_PREFIX + Long.toHexString(ThreadLocalRandom.current().nextLong());
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicReference<Echo> pending = new AtomicReference<>();

    /** One echo: the connection it was sent for, and when Redis acknowledged it. */
    private static final class Echo {
        final String token;
        final Object connection;
        volatile long ackedAt;
        volatile boolean acked;
        volatile boolean heard;

        Echo(String token, Object connection) {
            this.token = token;
            this.connection = connection;
        }
    }

    String channel() {
        return channel;
    }

    /** An echo arrived on the pub/sub connection. */
    void heard(String token) {
        Echo echo = pending.get();
        if (echo != null && echo.token.equals(token)) {
            echo.heard = true;
        }
    }

    /**
     * Once a period, for the connection subscribed now: true when it missed an echo Redis
     * acknowledged {@link #DEAF_AFTER} ago or more. Otherwise a new echo is due unless one is still
     * on its way, and the token to publish is returned through {@code publish}.
     */
    boolean deaf(Object connection, long nowNanos, Consumer<String> publish) {
        Echo echo = pending.get();
        if (echo != null && echo.connection == connection && !echo.heard) {
            if (!echo.acked || nowNanos - echo.ackedAt < DEAF_AFTER.toNanos()) {
                return false; // still on its way, or Redis has not answered it yet
            }
            pending.compareAndSet(echo, null);
            return true;
        }
        Echo next = new Echo(Long.toString(sequence.incrementAndGet()), connection);
        pending.set(next);
        publish.accept(next.token);
        return false;
    }

    /** Redis answered the echo's publish. */
    void acknowledged(String token, long nowNanos) {
        Echo echo = pending.get();
        if (echo != null && echo.token.equals(token)) {
            echo.ackedAt = nowNanos;
            echo.acked = true;
        }
    }

    /** The echo's publish failed or timed out: the next period sends another. */
    void unanswered(String token) {
        Echo echo = pending.get();
        if (echo != null && echo.token.equals(token)) {
            pending.compareAndSet(echo, null);
        }
    }
}
