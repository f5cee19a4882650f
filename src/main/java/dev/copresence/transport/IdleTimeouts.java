package dev.copresence.transport;

import java.time.Duration;

import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.quarkus.runtime.Startup;

import dev.copresence.config.CopresenceConfig;

/**
 * The HTTP idle timeout closes a connection that was quiet for its length, without a close code: a
 * socket that never finished a request or an upgrade, and also a live connection whose traffic is
 * sparser than it. An event stream counts what it is written, so a heartbeat the timeout would cut
 * stops the start with an error naming it; a long poll is answered before the timeout. An open
 * WebSocket has no HTTP idle timer (transport/SocketSink drops it): the liveness tick's 4408 is what
 * closes a silent one, so its ping interval and idle timeout may be set apart from this one. Also the
 * close deadline, which ends a WebSocket whose close frame cannot get out.
 */
@Startup
@Singleton
final class IdleTimeouts {
    /** What a once-a-second timer may add to a period: a heartbeat's scheduling. */
    private static final Duration TICK = Duration.ofSeconds(1);

    IdleTimeouts(CopresenceConfig config, @ConfigProperty(name = "quarkus.http.idle-timeout") Duration httpIdleTimeout) {
        check(httpIdleTimeout, config.sse().heartbeat());
        checkCloseDeadline(config.outbound().closeDeadline());
    }

    /**
     * A close deadline of (next to) nothing would reset every close the moment it began: clients
     * would never see a close code, only the connection ending; one of days keeps a stuck client's
     * socket and members as if there were none. Checked at start, and where it is read.
     */
    static Duration checkCloseDeadline(Duration deadline) {
        if (deadline.compareTo(Duration.ofSeconds(1)) < 0 || deadline.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalStateException("copresence.outbound.close-deadline (" + deadline
                    + ") must be at least a second and at most a day: a close is reset that long after it began");
        }
        return deadline;
    }

    static void check(Duration httpIdleTimeout, Duration sseHeartbeat) {
        if (httpIdleTimeout.isZero()) {
            return; // no idle timeout: nothing to cut
        }
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
