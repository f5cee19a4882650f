package dev.copresence.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import dev.copresence.engine.DocEvent;
import dev.copresence.flow.Frame;
import dev.copresence.flow.InboundQueue;
import dev.copresence.flow.OutboundQueue;
import dev.copresence.flow.RateLimiter;
import dev.copresence.flow.TakeAllSink;
import dev.copresence.protocol.Member;
import dev.copresence.protocol.UserRef;

/** What a member's client is sent while its join is answered, with events arriving from other threads. */
class LocalMemberTest {
    private static final int PER_THREAD = 2000;
    /** The join's offset: the member's snapshot holds the events up to it. */
    private static final int JOINED_AT = 1000;

    private final List<String> written = new CopyOnWriteArrayList<>();
    private final List<Integer> closes = new CopyOnWriteArrayList<>();

    private LocalMember member() {
        OutboundQueue out = new OutboundQueue(new TakeAllSink(frame -> written.add(frame.text())),
                OutboundQueue.Listener.NONE, 1 << 24, 100_000);
        Session session = new Session("s1", null, out, (code, reason) -> closes.add(code), new RateLimiter(100, 100),
                new InboundQueue(InboundQueue.Reader.NONE, 16, 100));
        return new LocalMember(session, "doc", new Member("m1", new UserRef("u1", null), null, false, 0L));
    }

    private static DocEvent event(int n) {
        return DocEvent.durable("1-" + n, "m2", false, "e" + n);
    }

    @Test
    void eventsDuringAJoinFollowJoinedOnceEachInOrderAndThoseInTheSnapshotAreNotSent() throws Exception {
        LocalMember member = member();
        AtomicInteger delivered = new AtomicInteger();
        // two publishers: one delivers the even offsets, the other the odd ones, each in its order
        List<CompletableFuture<Void>> publishers = new ArrayList<>();
        for (int parity = 0; parity < 2; parity++) {
            int p = parity;
            publishers.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < PER_THREAD; i++) {
                    DocEvent event = event(2 * i + p);
                    member.deliver(event, new Frame(event.frame()), null);
                    delivered.incrementAndGet();
                }
            }));
        }
        Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> delivered.get() >= PER_THREAD / 2);
        assertFalse(member.active());
        member.activate("1-" + JOINED_AT, List.of("replayed"), "joined");
        assertTrue(member.active());
        CompletableFuture.allOf(publishers.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

        assertEquals(List.of("replayed", "joined"), written.subList(0, 2), "the history and joined come first");
        List<String> events = written.subList(2, written.size());
        for (int parity = 0; parity < 2; parity++) {
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < PER_THREAD; i++) {
                if (2 * i + parity > JOINED_AT) {
                    expected.add("e" + (2 * i + parity));
                }
            }
            int p = parity;
            List<String> got = events.stream().filter(e -> Integer.parseInt(e.substring(1)) % 2 == p).toList();
            assertEquals(expected, got, "each publisher's events after the join, once each and in its order");
        }
        assertTrue(closes.isEmpty());
    }

    @Test
    void tooManyEventsDuringAJoinCloseTheConnectionAsASlowConsumer() {
        LocalMember member = member();
        for (int i = 0; i <= LocalMember.MAX_PENDING; i++) {
            DocEvent event = event(i);
            member.deliver(event, new Frame(event.frame()), null);
        }
        assertEquals(List.of(1013), closes);
        assertTrue(written.isEmpty(), "nothing is sent before joined");
    }

    private static DocEvent update(String origin, String frame) {
        return new DocEvent(DocEvent.Kind.UPDATE, null, origin, null, frame);
    }

    private static void deliver(LocalMember member, DocEvent... events) {
        for (DocEvent event : events) {
            member.deliver(event, new Frame(event.frame()), DocumentHub.conflationKey("doc", event));
        }
    }

    /**
     * m2 updates its state, then leaves, then m1 joins: the snapshot has neither m2 nor its update,
     * and m2's leave is older than the join. Sending the update after joined would bring m2 back.
     */
    @Test
    void anUpdateFromBeforeTheJoinIsNotSentAfterJoinedWhereItWouldBringBackAMemberWhoLeft() {
        LocalMember member = member();
        deliver(member, update("m2", "m2 moves"), DocEvent.durable("1-5", "m2", false, "m2 leaves"),
                DocEvent.durable("1-6", "m1", false, "m1 joins"), update("m3", "m3 moves"));
        member.activate("1-6", List.of(), "joined");
        assertEquals(List.of("joined", "m3 moves"), written, "only what followed the member's own join");
    }

    @Test
    void updatesArrivingAfterJoinedButBeforeTheMembersOwnJoinEventAreAlreadyInTheSnapshot() {
        LocalMember member = member();
        member.activate("1-6", List.of(), "joined");
        assertTrue(member.active(), "renewed from joined on");
        deliver(member, update("m2", "m2 moves"), DocEvent.durable("1-5", "m2", false, "m2 leaves"),
                DocEvent.durable("1-6", "m1", false, "m1 joins"), update("m3", "m3 moves"),
                DocEvent.durable("1-7", "m3", false, "m3 broadcasts"));
        assertEquals(List.of("joined", "m3 moves", "m3 broadcasts"), written);
    }

    @Test
    void aMemberWhoseOwnJoinNeverComesThroughGetsUpdatesAgainAfterAWhile() {
        LocalMember member = member();
        member.activate("1-6", List.of(), "joined");
        Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> {
            deliver(member, update("m2", "m2 moves"));
            return written.contains("m2 moves");
        });
    }
}
