package dev.copresence.transport;

import java.time.Duration;

import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.runtime.Startup;

import dev.copresence.config.CopresenceConfig;

/**
 * The HTTP idle timeout closes a connection that was quiet for its length, without a close code: a
 * socket that never finished a request or an upgrade, and also a live connection whose traffic is
 * sparser than it. For a WebSocket only what the client sends counts (the server's frames are
 * written below the idle handler), for an event stream what it is written. Settings under which a
 * live connection would be cut, or a silent WebSocket closed before its 4408, stop the start with an
 * error naming them; a long poll is answered before the timeout.
 */
@Startup
@Singleton
final class IdleTimeouts {
    /** What a once-a-second timer may add to a period: the liveness tick, a heartbeat's scheduling. */
    private static final Duration TICK = Duration.ofSeconds(1);

    IdleTimeouts(CopresenceConfig config, @ConfigProperty(name = "quarkus.http.idle-timeout") Duration httpIdleTimeout) {
        check(httpIdleTimeout, config.pingInterval(), config.idleTimeout(), config.sse().heartbeat());
    }

    static void check(Duration httpIdleTimeout, Duration pingInterval, Duration idleTimeout, Duration sseHeartbeat) {
        if (httpIdleTimeout.isZero()) {
            return; // no idle timeout: nothing to cut
        }
        // a ping is sent on the first tick after it is due (at least a second apart): the pong comes
        // within a second of the period, and so does the 4408 of a client that stopped answering
        Duration pingPeriod = pingInterval.compareTo(TICK) < 0 ? TICK : pingInterval;
        mustBeShorter(pingPeriod.plus(TICK), httpIdleTimeout, "copresence.ping-interval (" + pingInterval + ") and a second",
                "a WebSocket that only answers pings is heard from that often");
        mustBeShorter(idleTimeout.plus(TICK), httpIdleTimeout, "copresence.idle-timeout (" + idleTimeout + ") and a second",
                "a WebSocket that stopped answering is closed with 4408 by then, which its client can act on");
        mustBeShorter(sseHeartbeat.plus(TICK), httpIdleTimeout, "copresence.sse.heartbeat (" + sseHeartbeat + ") and a second",
                "a quiet event stream is written a heartbeat once per period");
    }

    /**
     * How long a long poll may wait: its own limit, and at most the idle timeout less a second, the
     * margin for reading where the document stands before the wait and for writing the answer.
     */
    static Duration longestPoll(Duration httpIdleTimeout) {
        Duration limit = Duration.ofSeconds(PollApi.MAX_TIMEOUT);
        Duration underIt = httpIdleTimeout.minus(TICK);
        return httpIdleTimeout.isZero() || underIt.compareTo(limit) >= 0 ? limit : underIt;
    }

    private static void mustBeShorter(Duration gap, Duration httpIdleTimeout, String what, String why) {
        if (gap.compareTo(httpIdleTimeout) >= 0) {
            throw new IllegalStateException("quarkus.http.idle-timeout (" + httpIdleTimeout + ") must be longer than "
                    + what + ": " + why + ", and a connection quiet for the idle timeout is closed without a close code");
        }
    }
}
