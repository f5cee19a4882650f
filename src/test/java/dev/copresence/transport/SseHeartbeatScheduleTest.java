package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The contract's "a comment line every 15 s keeps proxies from closing it", as the schedule of
 * {@link SseStreams} gives it: however the stream's last write falls between two checks, the reader
 * waits no longer than one heartbeat period for its next byte. (Checking once a period for streams
 * quiet for half of one, as before, let a stream written just after a check go a period and a half
 * without a byte.) A quiet stream is not written more than twice a period.
 */
class SseHeartbeatScheduleTest {

    @ParameterizedTest
    @ValueSource(longs = { 15_000, 1_000, 100, 7, 2, 1 })
    void noSilenceOfAStreamLastsLongerThanAHeartbeatPeriod(long period) {
        long check = SseStreams.checkEveryMillis(period);
        long quiet = SseStreams.quietMillis(period);
        long longest = 0;
        // the checks run at 0, check, 2 * check, ...; the last write falls anywhere in the first period
        for (long write = 0; write <= period; write++) {
            long firstCheckAfter = (write / check + 1) * check;
            long heartbeat = firstCheckAfter;
            while (heartbeat - write < quiet) {
                heartbeat += check;
            }
            longest = Math.max(longest, heartbeat - write);
        }
        assertTrue(longest <= period, "a silence of " + longest + " ms with a heartbeat period of " + period + " ms");
    }

    @ParameterizedTest
    @ValueSource(longs = { 15_000, 1_000, 100 })
    void aQuietStreamHearsAHeartbeatAtMostTwiceAPeriod(long period) {
        long check = SseStreams.checkEveryMillis(period);
        long quiet = SseStreams.quietMillis(period);
        long between = ((quiet + check - 1) / check) * check; // heartbeat to heartbeat, nothing else written
        assertTrue(between >= period / 2, "a heartbeat every " + between + " ms with a period of " + period + " ms");
        assertTrue(between <= period, "a heartbeat every " + between + " ms with a period of " + period + " ms");
    }
}
