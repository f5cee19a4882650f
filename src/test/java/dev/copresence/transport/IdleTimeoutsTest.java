package dev.copresence.transport;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class IdleTimeoutsTest {
    private static final Duration HTTP_IDLE = Duration.ofSeconds(90);
    private static final Duration HEARTBEAT = Duration.ofSeconds(15);

    @Test
    void theShippedSettingsLeaveAQuietEventStreamUnderTheHttpIdleTimeout() {
        assertDoesNotThrow(() -> IdleTimeouts.check(HTTP_IDLE, HEARTBEAT));
    }

    @Test
    void withoutAnHttpIdleTimeoutAnySettingsGo() {
        Duration hour = Duration.ofHours(1);
        assertDoesNotThrow(() -> IdleTimeouts.check(Duration.ZERO, hour));
    }

    @Test
    void aHeartbeatTheHttpIdleTimeoutWouldCutStopsTheStartNamingIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> IdleTimeouts.check(HTTP_IDLE, Duration.ofSeconds(89)));
        assertThat(e.getMessage(), containsString("copresence.sse.heartbeat (PT1M29S) and a second"));
        assertDoesNotThrow(() -> IdleTimeouts.check(HTTP_IDLE, Duration.ofSeconds(88)));
    }

    @Test
    void aLongPollWaitsAtMostThirtySecondsAndASecondLessThanTheHttpIdleTimeout() {
        assertEquals(Duration.ofSeconds(30), IdleTimeouts.longestPoll(HTTP_IDLE));
        assertEquals(Duration.ofSeconds(30), IdleTimeouts.longestPoll(Duration.ZERO));
        assertEquals(Duration.ofSeconds(30), IdleTimeouts.longestPoll(Duration.ofSeconds(31)));
        assertEquals(Duration.ofSeconds(29), IdleTimeouts.longestPoll(Duration.ofSeconds(30)));
        assertEquals(Duration.ofSeconds(3), IdleTimeouts.longestPoll(Duration.ofSeconds(4)));
    }

    @Test
    void aCloseDeadlineUnderASecondOrOverADayStopsTheStartNamingIt() {
        for (Duration wrong : new Duration[] { Duration.ZERO, Duration.ofSeconds(-1), Duration.ofMillis(999), Duration.ofDays(2),
                Duration.ofDays(365 * 300) }) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> IdleTimeouts.checkCloseDeadline(wrong));
            assertThat(e.getMessage(), containsString("copresence.outbound.close-deadline (" + wrong + ")"));
        }
        assertDoesNotThrow(() -> IdleTimeouts.checkCloseDeadline(Duration.ofSeconds(1)));
        assertDoesNotThrow(() -> IdleTimeouts.checkCloseDeadline(Duration.ofDays(1)));
        assertDoesNotThrow(() -> IdleTimeouts.checkCloseDeadline(Duration.ofSeconds(10)));
    }
}
