package dev.copresence.flow;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/**
 * The per-connection token bucket. A rate of 0 never refills, which makes the burst exact without
 * any timing; refill is only checked as "tokens come back", awaited.
 */
class RateLimiterTest {

    @Test
    void aFullBurstIsAllowedThenRefused() {
        RateLimiter limiter = new RateLimiter(0, 5);
        for (int i = 0; i < 5; i++) {
            assertTrue(limiter.tryAcquire(), "token " + i + " of the burst");
            assertEquals(0, limiter.rejectedInRow());
        }
        assertFalse(limiter.tryAcquire());
        assertFalse(limiter.tryAcquire());
    }

    @Test
    void refusalsInARowAreCounted() {
        RateLimiter limiter = new RateLimiter(0, 2);
        limiter.tryAcquire();
        limiter.tryAcquire();
        for (int i = 1; i <= 300; i++) {
            assertFalse(limiter.tryAcquire());
            assertEquals(i, limiter.rejectedInRow());
        }
    }

    @Test
    void aBurstBelowOneStillAllowsOneMessage() {
        RateLimiter limiter = new RateLimiter(0, 0);
        assertTrue(limiter.tryAcquire());
        assertFalse(limiter.tryAcquire());
        assertEquals(1, limiter.rejectedInRow());
    }

    @Test
    void tokensComeBackAndAnAcceptedMessageResetsTheCount() {
        RateLimiter limiter = new RateLimiter(20, 3);
        int taken = 0;
        while (limiter.tryAcquire()) {
            taken++;
            if (taken > 1000) {
                throw new AssertionError("the bucket never empties");
            }
        }
        assertTrue(taken >= 3, "at least the burst went through: " + taken);
        assertTrue(limiter.rejectedInRow() >= 1);
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10)).until(limiter::tryAcquire);
        assertEquals(0, limiter.rejectedInRow(), "a message let through ends the row of refusals");
    }

    @Test
    void theBucketRefillsToAtLeastItsBurstAgain() {
        RateLimiter limiter = new RateLimiter(1000, 10);
        while (limiter.tryAcquire()) {
            // empty it
        }
        // after enough time the whole burst is available: 10 in a row succeed
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20)).until(() -> {
            RateLimiter probe = limiter;
            for (int i = 0; i < 10; i++) {
                if (!probe.tryAcquire()) {
                    return false;
                }
            }
            return true;
        });
        assertEquals(0, limiter.rejectedInRow());
    }
}
