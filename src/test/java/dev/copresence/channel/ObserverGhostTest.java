package dev.copresence.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import dev.copresence.engine.DocEvent;
import dev.copresence.flow.Frame;

/**
 * An event stream that opened with a member list gets no update from a member that list already
 * counts gone: the update was published before the member left, and arrives after the list was read.
 */
class ObserverGhostTest {
    private final List<String> received = new CopyOnWriteArrayList<>();
    private final Observer observer = new Observer("doc", (event, frame) -> received.add(event.frame()),
            () -> received.add("overflow"));

    private void deliver(DocEvent event) {
        observer.deliver(event, new Frame(event.frame()));
    }

    private static DocEvent update(String member) {
        return new DocEvent(DocEvent.Kind.UPDATE, null, member, null, member + " moves");
    }

    private static DocEvent durable(String offset, String member, String what) {
        return new DocEvent(DocEvent.Kind.DURABLE_TO_OTHERS, offset, member, null, member + " " + what + " at " + offset);
    }

    @Test
    void anUpdateHeldDuringTheOpeningFromAMemberTheListCountsGoneIsNotPassedOn() {
        deliver(update("gone"));
        deliver(update("here"));
        deliver(durable("4-0", "gone", "leaves")); // older than the list: it knows

        observer.activate("5-0", List.of("here"));

        assertEquals(List.of("here moves"), received);
    }

    @Test
    void anUpdateArrivingAfterTheOpeningFromAMemberOutsideTheListIsDroppedUntilANewerDurableEvent() {
        observer.activate("5-0", List.of("here"));

        deliver(update("gone"));
        deliver(durable("3-0", "gone", "leaves"));
        deliver(update("gone"));
        deliver(update("here"));
        deliver(durable("6-0", "new", "joins"));
        deliver(update("new"));

        assertEquals(List.of("here moves", "new joins at 6-0", "new moves"), received);
    }

    @Test
    void aStreamThatResumedInsteadOfOpeningWithAListIsNotFiltered() {
        observer.activate("5-0");

        deliver(update("anyone"));

        assertEquals(List.of("anyone moves"), received);
    }

    @Test
    void withoutDurableTrafficTheFilterEndsByItself() {
        observer.activate("5-0", List.of("here"));
        deliver(update("quiet"));
        assertEquals(List.of(), received);

        // a bound on how long anything is held back, should the list and the bus ever disagree
        Awaitility.await().atMost(Duration.ofNanos(Observer.SETTLE_NANOS).plusSeconds(3)).until(() -> {
            deliver(update("quiet"));
            return !received.isEmpty();
        });
        assertEquals("quiet moves", received.get(0));
    }
}
