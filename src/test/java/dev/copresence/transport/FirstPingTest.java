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
        long earliest = now;
        long latest = now - PERIOD;
        for (int i = 0; i < 10_000; i++) {
            long base = SocketSink.firstPingBase(now, PERIOD, random);
            assertTrue(now - base >= 0 && now - base < PERIOD, "base " + (now - base) + " ns before the open");
            earliest = now - base > now - earliest ? base : earliest;
            latest = now - base < now - latest ? base : latest;
        }
        // spread over the whole period, not bunched at one end
        assertTrue(now - earliest > PERIOD * 9 / 10, "earliest base " + (now - earliest) + " ns before");
        assertTrue(now - latest < PERIOD / 10, "latest base " + (now - latest) + " ns before");
    }

    @Test
    void withoutAPeriodASocketCountsAsPingedWhenItOpens() {
        assertEquals(1_000L, SocketSink.firstPingBase(1_000L, 0, new SplittableRandom(1)));
    }
}
