package dev.copresence.transport;

import java.time.Duration;

import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.runtime.Startup;

import dev.copresence.config.CopresenceConfig;

/**
 * The HTTP idle timeout closes connections that were quiet for its length: a socket that never
 * finished a request or an upgrade, and also a live connection whose traffic is sparser than it.
 * Settings under which a live WebSocket or event stream would be cut (without the 4408 a client can
 * act on) stop the start with an error naming them; a long poll is answered before the timeout.
 */
@Startup
@Singleton
final class IdleTimeouts {
    IdleTimeouts(CopresenceConfig config, @ConfigProperty(name = "quarkus.http.idle-timeout") Duration httpIdleTimeout) {
        check(httpIdleTimeout, config.pingInterval(), config.sse().heartbeat());
    }

    static void check(Duration httpIdleTimeout, Duration pingInterval, Duration sseHeartbeat) {
        if (httpIdleTimeout.isZero()) {
            return; // no idle timeout: nothing to cut
        }
        // pings go out on the once-a-second liveness tick: at least a second apart, up to a second late
        Duration pingGap = (pingInterval.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : pingInterval).plusSeconds(1);
        mustBeShorter("copresence.ping-interval", pingInterval, pingGap, httpIdleTimeout,
                "a WebSocket that only answers pings is heard from that often");
        mustBeShorter("copresence.sse.heartbeat", sseHeartbeat, sseHeartbeat, httpIdleTimeout,
                "a quiet event stream is written a heartbeat once per period");
    }

    /** How long a long poll may wait: its own limit, and a second less than the idle timeout. */
    static Duration longestPoll(Duration httpIdleTimeout) {
        Duration limit = Duration.ofSeconds(PollApi.MAX_TIMEOUT);
        if (httpIdleTimeout.isZero() || httpIdleTimeout.compareTo(limit.plusSeconds(1)) > 0) {
            return limit;
        }
        Duration underIt = httpIdleTimeout.minusSeconds(1);
        return underIt.isNegative() ? Duration.ZERO : underIt;
    }

    private static void mustBeShorter(String setting, Duration value, Duration gap, Duration httpIdleTimeout, String why) {
        if (gap.compareTo(httpIdleTimeout) >= 0) {
            throw new IllegalStateException("quarkus.http.idle-timeout (" + httpIdleTimeout + ") must be longer than "
                    + (gap.equals(value) ? setting + " (" + value + ")" : setting + " (" + value + ", up to " + gap + " between pings)")
                    + ": " + why + ", and a connection quiet for the idle timeout is closed without a close code");
        }
    }
}
