package dev.copresence.transport;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class IdleTimeoutsTest {
    private static final Duration MINUTE = Duration.ofSeconds(60);

    @Test
    void theDefaultsLeaveEveryLiveConnectionUnderTheIdleTimeout() {
        assertDoesNotThrow(() -> IdleTimeouts.check(MINUTE, Duration.ofSeconds(15), Duration.ofSeconds(15)));
        assertDoesNotThrow(() -> IdleTimeouts.check(Duration.ZERO, Duration.ofMinutes(5), Duration.ofMinutes(5)));
    }

    @Test
    void aPingIntervalTheIdleTimeoutWouldCutStopsTheStartNamingIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> IdleTimeouts.check(MINUTE, Duration.ofSeconds(59), Duration.ofSeconds(15)));
        assertThat(e.getMessage(), containsString("copresence.ping-interval (PT59S, up to PT1M between pings)"));
        assertThat(e.getMessage(), containsString("quarkus.http.idle-timeout (PT1M)"));
    }

    @Test
    void aHeartbeatTheIdleTimeoutWouldCutStopsTheStartNamingIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> IdleTimeouts.check(MINUTE, Duration.ofSeconds(15), MINUTE));
        assertThat(e.getMessage(), containsString("copresence.sse.heartbeat (PT1M)"));
    }

    @Test
    void aLongPollWaitsAtMostThirtySecondsAndASecondLessThanTheIdleTimeout() {
        assertEquals(Duration.ofSeconds(30), IdleTimeouts.longestPoll(MINUTE));
        assertEquals(Duration.ofSeconds(30), IdleTimeouts.longestPoll(Duration.ZERO));
        assertEquals(Duration.ofSeconds(30), IdleTimeouts.longestPoll(Duration.ofSeconds(32)));
        assertEquals(Duration.ofSeconds(30), IdleTimeouts.longestPoll(Duration.ofSeconds(31)));
        assertEquals(Duration.ofSeconds(9), IdleTimeouts.longestPoll(Duration.ofSeconds(10)));
        assertEquals(Duration.ZERO, IdleTimeouts.longestPoll(Duration.ofMillis(500)));
    }
}
