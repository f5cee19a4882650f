package dev.copresence.flow;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import io.smallrye.mutiny.Uni;

/**
 * The bounded queue in front of a socket, driven by a sink whose writes complete only when the test
 * says so: order, the write window, conflation, overflow (close 1013) and discard.
 */
class OutboundQueueTest {

    /** A socket whose writes stay in flight until {@link #complete} or {@link #fail}. */
    static final class FakeSink implements OutboundQueue.Sink {
        final List<String> written = new ArrayList<>();
        final List<CompletableFuture<Void>> pending = new ArrayList<>();
        final List<Integer> closes = new ArrayList<>();
        int maxInFlight;

        @Override
        public synchronized Uni<Void> write(String frame) {
            written.add(frame);
            CompletableFuture<Void> done = new CompletableFuture<>();
            pending.add(done);
            maxInFlight = Math.max(maxInFlight, inFlight());
            return Uni.createFrom().completionStage(done);
        }

        @Override
        public synchronized void close(int code, String reason) {
            closes.add(code);
        }

        synchronized int inFlight() {
            return (int) pending.stream().filter(f -> !f.isDone()).count();
        }

        /** Completes the oldest write still in flight. */
        void complete() {
            CompletableFuture<Void> next;
            synchronized (this) {
                next = pending.stream().filter(f -> !f.isDone()).findFirst().orElseThrow(() -> new AssertionError("nothing in flight"));
            }
            next.complete(null);
        }

        void completeAll() {
            while (inFlight() > 0) {
                complete();
            }
        }

        void fail() {
            CompletableFuture<Void> next;
            synchronized (this) {
                next = pending.stream().filter(f -> !f.isDone()).findFirst().orElseThrow();
            }
            next.completeExceptionally(new java.io.IOException("connection reset"));
        }

        synchronized List<String> written() {
            return List.copyOf(written);
        }
    }

    static final class Counts implements OutboundQueue.Listener {
        final AtomicInteger conflated = new AtomicInteger();
        final AtomicInteger overflowed = new AtomicInteger();

        @Override
        public void conflated() {
            conflated.incrementAndGet();
        }

        @Override
        public void overflowed() {
            overflowed.incrementAndGet();
        }
    }

    private final FakeSink sink = new FakeSink();
    private final Counts counts = new Counts();

    private OutboundQueue queue(int maxBytes, int maxFrames, int window) {
        return new OutboundQueue(sink, counts, maxBytes, maxFrames, window);
    }

    @Test
    void framesAreWrittenInOrder() {
        OutboundQueue q = queue(1 << 20, 1000, 16);
        for (int i = 0; i < 10; i++) {
            assertTrue(q.offer("f" + i, null));
        }
        sink.completeAll();
        assertEquals(List.of("f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"), sink.written());
        assertEquals(0, q.depth());
        assertEquals(0, q.bytes(), "nothing queued or in flight once every write completed");
        assertTrue(sink.closes.isEmpty());
    }

    @Test
    void atMostWindowWritesAreInFlight() {
        OutboundQueue q = queue(1 << 20, 1000, 3);
        for (int i = 0; i < 10; i++) {
            q.offer("f" + i, null);
        }
        assertEquals(List.of("f0", "f1", "f2"), sink.written());
        assertEquals(7, q.depth());
        assertEquals(20, q.bytes(), "bytes count frames queued and in flight");
        sink.complete();
        assertEquals(List.of("f0", "f1", "f2", "f3"), sink.written(), "one completion lets exactly one more write go");
        assertEquals(3, sink.inFlight());
        sink.completeAll();
        assertEquals(10, sink.written().size());
        assertEquals(3, sink.maxInFlight);
        assertEquals(0, q.bytes());
    }

    @Test
    void aSinkThatCompletesAtOnceGetsEverythingInOrder() {
        List<String> written = new ArrayList<>();
        OutboundQueue q = new OutboundQueue(new OutboundQueue.Sink() {
            @Override
            public Uni<Void> write(String frame) {
                written.add(frame);
                return Uni.createFrom().voidItem();
            }

            @Override
            public void close(int code, String reason) {
                throw new AssertionError("closed with " + code);
            }
        }, counts, 100, 10, 1);
        for (int i = 0; i < 50; i++) {
            assertTrue(q.offer("f" + i, i % 2 == 0 ? null : "k"));
        }
        assertEquals(50, written.size());
        assertEquals("f0", written.get(0));
        assertEquals("f49", written.get(49));
        assertEquals(0, q.bytes());
    }

    @Test
    void conflationReplacesAQueuedFrameInPlace() {
        OutboundQueue q = queue(1 << 20, 1000, 1);
        q.offer("first", null); // in flight: holds the others in the queue
        q.offer("a1", "A");
        q.offer("b1", "B");
        q.offer("durable", null);
        assertTrue(q.offer("a2", "A"));
        assertTrue(q.offer("a3", "A"));
        assertEquals(3, q.depth(), "the newer frames of A replaced the queued one");
        assertEquals(2, counts.conflated.get());
        assertEquals("first".length() + "a3".length() + "b1".length() + "durable".length(), q.bytes());
        sink.completeAll();
        assertEquals(List.of("first", "a3", "b1", "durable"), sink.written(),
                "the newest frame of A takes the place of the first one: latest wins, never reordered after B");
    }

    @Test
    void aFrameAlreadyInFlightIsNeverConflated() {
        OutboundQueue q = queue(1 << 20, 1000, 1);
        q.offer("a1", "A");
        assertEquals(List.of("a1"), sink.written());
        q.offer("a2", "A");
        assertEquals(1, q.depth(), "queued behind the one in flight");
        assertEquals(0, counts.conflated.get());
        sink.complete();
        assertEquals(List.of("a1", "a2"), sink.written());
        q.offer("a3", "A"); // queued behind a2, which is in flight
        q.offer("a4", "A"); // replaces the queued a3, not a2
        assertEquals(1, counts.conflated.get());
        sink.completeAll();
        assertEquals(List.of("a1", "a2", "a4"), sink.written());
    }

    @Test
    void keysOfDifferentFramesDoNotInterfere() {
        OutboundQueue q = queue(1 << 20, 1000, 1);
        q.offer("x", null);
        q.offer("a1", List.of("doc", "m-1", "update"));
        q.offer("b1", List.of("doc", "m-1", "typing"));
        q.offer("a2", List.of("doc", "m-1", "update"));
        sink.completeAll();
        assertEquals(List.of("x", "a2", "b1"), sink.written(), "keys compare by equality");
    }

    @Test
    void overflowByBytesClosesWith1013OnceAndRefusesLaterFrames() {
        OutboundQueue q = queue(10, 1000, 1);
        assertTrue(q.offer("12345", null));
        assertTrue(q.offer("1234", null));
        assertTrue(q.offer("1", null), "exactly at the limit fits");
        assertFalse(q.offer("x", null), "one byte more does not");
        assertEquals(List.of(OutboundQueue.SLOW_CONSUMER), sink.closes);
        assertEquals(1013, OutboundQueue.SLOW_CONSUMER);
        assertEquals(1, counts.overflowed.get());
        assertFalse(q.offer("y", null));
        assertFalse(q.offer("z", "K"));
        assertFalse(q.offer("w".repeat(100), null));
        assertEquals(List.of(1013), sink.closes, "closed exactly once");
        assertEquals(1, counts.overflowed.get());
        assertEquals(0, q.depth(), "the queued frames are dropped");
        sink.completeAll();
        assertEquals(List.of("12345"), sink.written(), "nothing is written after the overflow");
    }

    @Test
    void aSingleFrameLargerThanTheBufferOverflows() {
        OutboundQueue q = queue(10, 1000, 4);
        assertFalse(q.offer("x".repeat(11), null));
        assertEquals(List.of(1013), sink.closes);
        assertTrue(sink.written().isEmpty());
    }

    @Test
    void overflowByFrameCountClosesWith1013Once() {
        OutboundQueue q = queue(1 << 20, 3, 1);
        assertTrue(q.offer("a", null));
        assertTrue(q.offer("b", null));
        assertTrue(q.offer("c", "C"), "in flight and queued frames count together: 3 fit");
        assertTrue(q.offer("c2", "C"));
        assertTrue(q.offer("c3", "C"), "conflating a queued frame adds none");
        assertEquals(List.of(), sink.closes);
        assertFalse(q.offer("d", null));
        assertEquals(List.of(1013), sink.closes);
        assertFalse(q.offer("e", null));
        assertFalse(q.offer("e", "C"));
        assertEquals(List.of(1013), sink.closes);
        assertEquals(1, counts.overflowed.get());
        sink.completeAll();
        assertEquals(List.of("a"), sink.written());
    }

    @Test
    void completedWritesMakeRoomAgain() {
        OutboundQueue q = queue(4, 2, 1);
        for (int i = 0; i < 20; i++) {
            assertTrue(q.offer("ab", null), "frame " + i);
            sink.complete();
        }
        assertTrue(sink.closes.isEmpty());
        assertEquals(20, sink.written().size());
    }

    /**
     * The class promises "at most maxBytes (characters of encoded frames, queued or being written)";
     * a newer frame replacing a smaller queued one must respect it too, or a slow reader of a busy
     * document can hold one 4 KiB state per member whatever the send buffer says.
     */
    @Test
    void conflationCannotGrowTheQueuePastItsByteLimit() {
        OutboundQueue q = queue(100, 1000, 1);
        q.offer("x", null);
        q.offer("a", "A");
        boolean accepted = q.offer("A".repeat(1000), "A");
        assertThat("bytes held: " + q.bytes() + ", accepted: " + accepted + ", closes: " + sink.closes, q.bytes(),
                lessThanOrEqualTo(100L));
        assertFalse(accepted);
        assertEquals(List.of(1013), sink.closes);
    }

    @Test
    void discardDropsEverything() {
        OutboundQueue q = queue(1 << 20, 1000, 1);
        q.offer("a", null);
        q.offer("b", null);
        q.offer("c", "K");
        q.discard();
        assertEquals(0, q.depth());
        assertFalse(q.offer("d", null));
        assertFalse(q.offer("e", "K"));
        sink.completeAll();
        assertEquals(List.of("a"), sink.written(), "only the write already in flight happened");
        assertTrue(sink.closes.isEmpty(), "discard is for a connection already gone: no close");
    }

    @Test
    void aFailedWriteDiscardsTheRest() {
        OutboundQueue q = queue(1 << 20, 1000, 1);
        q.offer("a", null);
        q.offer("b", null);
        q.offer("c", null);
        sink.fail();
        // the failure hands at most the next frame to the (dead) socket before discarding the rest
        assertThat(sink.written().size(), lessThanOrEqualTo(2));
        assertEquals(0, q.depth());
        assertFalse(q.offer("d", null));
        sink.completeAll();
        assertFalse(sink.written().contains("c"), "nothing queued behind a failed write is written");
        assertFalse(sink.written().contains("d"));
    }

    @Test
    void offersFromManyThreadsKeepEachThreadsOrderAndTheWindow() throws Exception {
        OutboundQueue q = queue(1 << 24, 100_000, 4);
        int threads = 4;
        int perThread = 500;
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread th = new Thread(() -> {
                for (int i = 0; i < perThread; i++) {
                    q.offer(thread + ":" + i, null);
                }
            });
            th.start();
            started.add(th);
        }
        // complete writes as they arrive until every frame went through
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> {
            while (sink.inFlight() > 0) {
                sink.complete();
            }
            return sink.written().size() == threads * perThread;
        });
        for (Thread th : started) {
            th.join();
        }
        assertThat(sink.maxInFlight, lessThanOrEqualTo(4));
        int[] last = new int[threads];
        java.util.Arrays.fill(last, -1);
        for (String frame : sink.written()) {
            int thread = Integer.parseInt(frame.substring(0, frame.indexOf(':')));
            int i = Integer.parseInt(frame.substring(frame.indexOf(':') + 1));
            assertEquals(last[thread] + 1, i, "frames of one thread stay in order");
            last[thread] = i;
        }
        assertEquals(0, q.bytes());
    }
}
