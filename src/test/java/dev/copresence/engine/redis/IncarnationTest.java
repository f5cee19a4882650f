package dev.copresence.engine.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class IncarnationTest {

    @Test
    void eachStartGoesByANewNameThatStartsWithTheNodeId() {
        Incarnation first = new Incarnation("pod-0");
        Incarnation second = new Incarnation("pod-0");
        assertTrue(first.current().startsWith("pod-0."), first.current());
        assertNotEquals(first.current(), second.current(), "a restart under the same id is another name");
    }

    @Test
    void theFirstLeaseOfANameIsMissingAndThatIsNoLoss() {
        Incarnation incarnation = new Incarnation("n1");
        String name = incarnation.current();
        assertNull(incarnation.afterLease(name, false, false));
        assertTrue(incarnation.held(name));
        assertNull(incarnation.afterLease(name, true, true));
        assertEquals(name, incarnation.current());
        assertEquals(List.of(), incarnation.dueForReaping());
        assertEquals(List.of(), incarnation.givenUp());
    }

    @Test
    void aLeaseGoneAfterItWasHeldGivesANewNameAndRetiresTheOldOneOnce() {
        Incarnation incarnation = new Incarnation("n1");
        String old = incarnation.current();
        incarnation.afterLease(old, false, false);

        assertEquals(List.of(), incarnation.dueForReaping(), "the heartbeat that gives it up starts");
        String next = incarnation.afterLease(old, true, false);

        assertNotEquals(old, next);
        assertEquals(next, incarnation.current());
        assertTrue(incarnation.retiring(old), "not reaped by this node before its resync has run");
        assertEquals(List.of(old), incarnation.givenUp());
        assertEquals(List.of(old), incarnation.dueForReaping(), "at the next heartbeat");
        assertEquals(List.of(old), incarnation.dueForReaping(), "and the next, until it is handed back");
        assertTrue(incarnation.retiring(old));
        incarnation.handedBack(old);
        assertFalse(incarnation.retiring(old));
        assertEquals(List.of(), incarnation.dueForReaping());
        assertEquals(List.of(), incarnation.givenUp());
    }

    @Test
    void aNewNameIsHeldOnceItsLeaseIsSet() {
        Incarnation incarnation = new Incarnation("n1");
        incarnation.afterLease(incarnation.current(), false, false);
        String next = incarnation.afterLease(incarnation.current(), true, false);
        assertFalse(incarnation.held(next));
        incarnation.holding(next);

        assertTrue(incarnation.held(next));
        assertNotEquals(next, incarnation.afterLease(next, true, false), "its lease gone later is a loss too");
    }

    @Test
    void anAnswerAboutANameAlreadyGivenUpChangesNothing() {
        Incarnation incarnation = new Incarnation("n1");
        String old = incarnation.current();
        incarnation.afterLease(old, false, false);
        String next = incarnation.afterLease(old, true, false);

        assertNull(incarnation.afterLease(old, true, false));
        assertEquals(next, incarnation.current());
    }

    @Test
    void overlappingFirstHeartbeatsAnsweredOutOfOrderAreNoLoss() {
        Incarnation incarnation = new Incarnation("n1");
        String name = incarnation.current();
        boolean firstAsked = incarnation.held(name);
        boolean secondAsked = incarnation.held(name);
        assertNull(incarnation.afterLease(name, secondAsked, true));
        assertNull(incarnation.afterLease(name, firstAsked, false), "the first set found nothing: it was the first");
        assertEquals(name, incarnation.current());
    }

    @Test
    void aNodeIdThatCannotBeWrittenSafelyIntoKeysAndRecordsIsRefused() {
        for (String bad : List.of("", "a b", "a{b}", "a\"b", "a:b", "x".repeat(65))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Incarnation(bad));
            assertTrue(e.getMessage().contains("copresence.node-id"), e.getMessage());
        }
    }
}
