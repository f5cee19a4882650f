package dev.copresence.engine.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class HearingTest {
    private static final long SECOND = 1_000_000_000L;

    private final Hearing hearing = new Hearing();
    private final List<String> published = new ArrayList<>();
    private final Object connection = new Object();

    private boolean check(Object on, long now) {
        return hearing.deaf(on, now, published::add);
    }

    @Test
    void aConnectionThatHearsItsEchoesIsNeverDeaf() {
        for (int period = 0; period < 5; period++) {
            assertFalse(check(connection, period * 10 * SECOND));
            String token = published.get(published.size() - 1);
            hearing.acknowledged(token, period * 10 * SECOND + 1);
            hearing.heard(token);
        }
        assertEquals(5, published.size(), "one echo a period");
    }

    @Test
    void anAcknowledgedEchoNotHeardWithinTheSlackMakesTheConnectionDeaf() {
        assertFalse(check(connection, 0));
        hearing.acknowledged(published.get(0), SECOND);
        assertFalse(check(connection, 3 * SECOND), "still within the slack after Redis answered");
        assertTrue(check(connection, 4 * SECOND));
        assertFalse(check(connection, 5 * SECOND), "judged once: the next check sends a new echo");
        assertEquals(2, published.size());
    }

    @Test
    void anEchoRedisHasNotAnsweredIsNotJudged() {
        assertFalse(check(connection, 0));
        assertFalse(check(connection, 60 * SECOND), "Redis not answering commands is not the subscription's fault");
        assertEquals(1, published.size(), "and no second echo piles up behind it");
        hearing.unanswered(published.get(0));
        assertFalse(check(connection, 61 * SECOND));
        assertEquals(2, published.size(), "after a failed publish the next check sends another");
    }

    @Test
    void aNewConnectionIsNotJudgedByTheEchoOfTheOldOne() {
        assertFalse(check(connection, 0));
        hearing.acknowledged(published.get(0), 0);
        Object next = new Object();
        assertFalse(check(next, 10 * SECOND));
        assertEquals(2, published.size(), "a new echo for the new connection");
        hearing.heard(published.get(0));
        hearing.acknowledged(published.get(1), 10 * SECOND);
        hearing.heard(published.get(1));
        assertFalse(check(next, 20 * SECOND));
    }
}
