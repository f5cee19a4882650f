package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** Where a socket's ping period starts: within the period before it opened, never after. */
class FirstPingTest {
    private static final long PERIOD = TimeUnit.SECONDS.toNanos(15);

    @Test
    void aSocketCountsAsPingedAtSomeMomentOfThePeriodBeforeItOpened() {
        SplittableRandom random = new SplittableRandom(42);
        long now = Long.MAX_VALUE - 5; // nanoTime may be anywhere, near overflow too
        long longest = 0; // how long before the open the base fell, at most and at least
        long shortest = PERIOD;
        for (int i = 0; i < 10_000; i++) {
            long before = now - SocketSink.firstPingBase(now, PERIOD, random);
            assertTrue(before >= 0 && before < PERIOD, "base " + before + " ns before the open");
            longest = Math.max(longest, before);
            shortest = Math.min(shortest, before);
        }
        // spread over the whole period, not bunched at one end
        assertTrue(longest > PERIOD * 9 / 10, "earliest base " + longest + " ns before");
        assertTrue(shortest < PERIOD / 10, "latest base " + shortest + " ns before");
    }

    @Test
    void withoutAPeriodASocketCountsAsPingedWhenItOpens() {
        assertEquals(1_000L, SocketSink.firstPingBase(1_000L, 0, new SplittableRandom(1)));
    }
}
