package dev.copresence.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.copresence.engine.DocEvent;

/**
 * A hub catching up after the bus lost its connection: what its readers get while the live events
 * wait behind the events read from the log.
 */
class DocumentHubCatchUpTest {
    private static final BooleanSupplier NO_GAP_SINCE = () -> true;

    private final List<String> received = new ArrayList<>();
    private final DocumentHub hub = new DocumentHub("doc");

    @BeforeEach
    void reader() {
        Observer observer = new Observer("doc", (event, frame) -> received.add(event.frame()), () -> received.add("overflow"));
        hub.observers.add(observer);
        observer.activate(null);
    }

    private static DocEvent event(int n) {
        return DocEvent.durable("1-" + n, null, false, "e" + n);
    }

    private static List<DocEvent> events(int from, int to) {
        List<DocEvent> events = new ArrayList<>();
        for (int n = from; n <= to; n++) {
            events.add(event(n));
        }
        return events;
    }

    private static List<String> frames(int from, int to) {
        return events(from, to).stream().map(DocEvent::frame).toList();
    }

    @Test
    void liveEventsAfterAGapWaitForTheMissedOnesAndFollowThemOnceEach() {
        hub.deliver(event(1));
        hub.hold();
        hub.deliver(event(5)); // live again: 2..4 were published during the gap
        hub.deliver(event(6));
        assertEquals(frames(1, 1), received, "nothing newer than the gap before the missed events");

        assertTrue(hub.release(events(2, 5), NO_GAP_SINCE));
        assertEquals(frames(1, 6), received);
        hub.deliver(event(7));
        assertEquals(frames(1, 7), received, "live again once caught up");
    }

    @Test
    void pastTheHoldLimitTheLogIsReadAgainFromWhereTheFirstReadEnded() {
        hub.hold();
        for (int n = 1; n <= DocumentHub.MAX_HELD + 10; n++) {
            hub.deliver(event(n));
        }
        assertFalse(hub.release(events(1, 3), NO_GAP_SINCE), "too many held: read again");
        assertEquals(frames(1, 3), received);
        hub.deliver(event(DocumentHub.MAX_HELD + 11)); // still held

        assertTrue(hub.release(events(4, DocumentHub.MAX_HELD + 10), NO_GAP_SINCE));
        assertEquals(frames(1, DocumentHub.MAX_HELD + 11), received);
    }

    @Test
    void aCatchUpThatStartedBeforeANewerGapLeavesTheHoldingToThatGapsCatchUp() {
        hub.deliver(event(1));
        hub.hold();
        assertTrue(hub.release(events(2, 3), () -> false), "a newer gap began while this one read");
        hub.deliver(event(6)); // live after the newer gap: 4 and 5 were published during it
        assertEquals(frames(1, 3), received, "still holding");

        assertTrue(hub.release(events(4, 5), NO_GAP_SINCE));
        assertEquals(frames(1, 6), received);
    }

    @Test
    void aCatchUpThatCannotReadTheLogEndsItsReadersAndStillEndsTheHoldingAfterAnOverflow() {
        hub.hold();
        for (int n = 1; n <= DocumentHub.MAX_HELD + 1; n++) {
            hub.deliver(event(n));
        }
        assertTrue(hub.abandon(NO_GAP_SINCE));
        hub.deliver(event(DocumentHub.MAX_HELD + 2));
        assertEquals(List.of("overflow"), received, "what it missed cannot be known: told to resume, and sent nothing more");

        List<String> later = new ArrayList<>();
        Observer newcomer = new Observer("doc", (event, frame) -> later.add(event.frame()), () -> later.add("overflow"));
        hub.observers.add(newcomer);
        newcomer.activate(event(DocumentHub.MAX_HELD + 2).offset());
        hub.deliver(event(DocumentHub.MAX_HELD + 3));
        assertEquals(List.of(event(DocumentHub.MAX_HELD + 3).frame()), later, "live again for a reader who came after");
    }

    @Test
    void aFailedCatchUpLeavesItsReadersToTheCatchUpOfANewerGap() {
        hub.deliver(event(1));
        hub.hold();
        assertFalse(hub.abandon(() -> false));
        assertTrue(hub.release(events(2, 3), NO_GAP_SINCE));
        assertEquals(frames(1, 3), received, "the newer gap's catch-up read everything: nothing lost");
    }

    @Test
    void eventsTrimmedFromTheLogBeforeTheCatchUpEndItsReadersBeforeAnythingAfterThem() {
        hub.deliver(event(1));
        hub.hold();
        hub.deliver(event(9)); // live again: 2..8 were published during the gap, and 2..5 are no longer in the log
        hub.lost();
        assertTrue(hub.release(events(6, 8), NO_GAP_SINCE));
        hub.deliver(event(10));
        assertEquals(List.of(event(1).frame(), "overflow"), received, "told to resume, and no event after the hole");
    }

    @Test
    void aCatchUpChecksTheLastEventPassedOnOrBeforeAnyWhereTheOldestReaderOpenedAndReadsAllForOneStillOpening() {
        DocumentHub quiet = new DocumentHub("quiet");
        assertEquals(new DocumentHub.CatchUpFrom(null, false), quiet.catchUpFrom(), "no reader: nothing known");
        Observer later = observer();
        Observer earlier = observer();
        quiet.observers.add(later);
        quiet.observers.add(earlier);
        later.activate("1-7");
        earlier.activate("1-3");
        assertEquals(new DocumentHub.CatchUpFrom("1-3", false), quiet.catchUpFrom(), "the oldest position a reader opened at");

        Observer opening = observer();
        quiet.observers.add(opening);
        assertEquals(new DocumentHub.CatchUpFrom("1-3", true), quiet.catchUpFrom(),
                "checked there, but the whole log read: the one still opening may have opened before it");

        quiet.deliver(event(9));
        assertEquals(new DocumentHub.CatchUpFrom("1-9", false), quiet.catchUpFrom(),
                "the last event passed on: every reader attached before it has it");
    }

    private static Observer observer() {
        return new Observer("quiet", (event, frame) -> {
        }, () -> {
        });
    }

    @Test
    void ephemeralEventsAreNotHeld() {
        hub.hold();
        hub.deliver(new DocEvent(DocEvent.Kind.UPDATE, null, "m1", null, "cursor"));
        assertEquals(List.of("cursor"), received);
    }
}
