package dev.copresence.flow;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/**
 * The bounded queue in front of a socket, driven by a fake socket that holds what it is given until
 * the test lets the network take it: order, one flush per burst, the socket's own bound, conflation,
 * overflow (close 1013) and discard.
 */
class OutboundQueueTest {

    /**
     * A socket whose buffer holds at most {@code capacity} frames until {@link #send} (the network
     * takes the oldest). Its thread is the test's: tasks run at once, unless {@link #holdTasks}.
     */
    static final class FakeSink implements OutboundQueue.Sink {
        final List<String> written = new ArrayList<>();
        final List<String> held = new ArrayList<>();
        final List<Runnable> whenFlushed = new ArrayList<>();
        final List<Runnable> tasks = new ArrayList<>();
        final List<Integer> closes = new ArrayList<>();
        final List<Long> delays = new ArrayList<>();
        int capacity = 1;
        int maxHeld;
        /** The socket's thread, when a test has several: every call of the sink then runs on it. */
        java.util.concurrent.Executor loop;
        int flushes;
        int executed;
        boolean holdTasks;
        boolean open = true;

        @Override
        public void execute(Runnable task) {
            executed++;
            if (loop != null) {
                loop.execute(task);
            } else if (holdTasks) {
                tasks.add(task);
            } else {
                task.run();
            }
        }

        /** Delayed tasks wait in {@link #tasks} (whatever {@link #holdTasks} says) until {@link #runTasks}. */
        @Override
        public void executeLater(Runnable task, long delayMillis) {
            delays.add(delayMillis);
            tasks.add(task);
        }

        void runTasks() {
            List<Runnable> now = List.copyOf(tasks);
            tasks.clear();
            now.forEach(Runnable::run);
        }

        @Override
        public boolean open() {
            return open;
        }

        @Override
        public boolean writable() {
            return held.size() < capacity;
        }

        @Override
        public void write(Frame frame) {
            written.add(frame.text());
            held.add(frame.text());
            maxHeld = Math.max(maxHeld, held.size());
        }

        @Override
        public void flush() {
            flushes++;
        }

        @Override
        public void whenFlushed(Runnable then) {
            whenFlushed.add(then);
            if (held.isEmpty()) {
                flushed();
            }
        }

        @Override
        public void close(int code, String reason) {
            closes.add(code);
        }

        /** The network takes the oldest frame the socket holds. */
        void send() {
            if (held.isEmpty()) {
                throw new AssertionError("the socket holds nothing");
            }
            held.remove(0);
            if (held.isEmpty()) {
                flushed();
            }
        }

        void sendAll() {
            while (!held.isEmpty()) {
                send();
            }
        }

        /** The connection breaks: what the socket held is lost. */
        void fail() {
            open = false;
            held.clear();
            flushed();
        }

        private void flushed() {
            List<Runnable> callbacks = List.copyOf(whenFlushed);
            whenFlushed.clear();
            callbacks.forEach(Runnable::run);
        }

        List<String> written() {
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

    private static boolean offer(OutboundQueue q, String frame, Object key) {
        return q.offer(new Frame(frame), key);
    }

    /** @param capacity frames the socket holds unsent before the queue keeps the rest */
    private OutboundQueue queue(int maxBytes, int maxFrames, int capacity) {
        sink.capacity = capacity;
        return new OutboundQueue(sink, counts, maxBytes, maxFrames);
    }

    @Test
    void onlyTheFirstCloseRunsItsActionAndBeforeTheSocketCloses() {
        OutboundQueue q = queue(1 << 20, 1000, 16);
        List<String> seen = new ArrayList<>();
        assertTrue(q.close(4408, "silent", () -> seen.add("first, sink closes " + sink.closes)));
        assertFalse(q.close(4408, "silent", () -> seen.add("second")), "the same close again");
        assertEquals(List.of("first, sink closes []"), seen);
        assertEquals(List.of(4408), sink.closes);

        OutboundQueue other = queue(1 << 20, 1000, 16);
        assertTrue(other.close(OutboundQueue.SLOW_CONSUMER, "slow"));
        assertFalse(other.close(4408, "silent", () -> seen.add("after a 1013")), "a close that came second");
        assertEquals(List.of("first, sink closes []"), seen);
    }

    @Test
    void framesAreWrittenInOrder() {
        OutboundQueue q = queue(1 << 20, 1000, 16);
        for (int i = 0; i < 10; i++) {
            assertTrue(offer(q, "f" + i, null));
        }
        sink.sendAll();
        assertEquals(List.of("f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"), sink.written());
        assertEquals(0, q.depth());
        assertEquals(0, q.bytes(), "nothing queued once the socket took everything");
        assertTrue(sink.closes.isEmpty());
    }

    @Test
    void aFrameThatFindsTheQueueEmptyCountsTowardsItsBounds() {
        OutboundQueue q = queue(1 << 20, 2, 100);
        sink.holdTasks = true;
        assertTrue(offer(q, "a", null));
        assertEquals(1, q.depth());
        assertEquals(1, q.bytes());
        assertTrue(offer(q, "b", null));
        assertEquals(2, q.depth());
        assertFalse(offer(q, "c", null), "a third frame is over the bound of two");
        assertEquals(List.of(OutboundQueue.SLOW_CONSUMER), sink.closes);
        assertEquals(0, q.depth(), "the overflow dropped the first frame too");
        sink.runTasks();
        assertTrue(sink.written().isEmpty());
    }

    @Test
    void framesOfEveryKindKeepTheirOrderBehindTheFirstOne() {
        OutboundQueue q = queue(1 << 20, 1000, 100);
        sink.holdTasks = true;
        offer(q, "d0", null);
        offer(q, "k1", "K");
        q.offerBacklog(Backlog.of("doc", List.of("h1"), "h2"));
        offer(q, "d1", null);
        offer(q, "k2", "K"); // replaces k1 in its place
        sink.runTasks();
        offer(q, "d2", null); // the queue is empty again
        offer(q, "d3", null);
        sink.runTasks();
        assertEquals(List.of("d0", "k2", "h1", "h2", "d1", "d2", "d3"), sink.written());
        assertEquals(0, q.depth());
        assertEquals(0, q.bytes());
    }

    @Test
    void discardDropsAFrameThatFoundTheQueueEmpty() {
        OutboundQueue q = queue(1 << 20, 1000, 100);
        sink.holdTasks = true;
        offer(q, "lone", null);
        q.discard();
        sink.runTasks();
        assertTrue(sink.written().isEmpty());
        assertEquals(0, q.bytes());
        assertFalse(offer(q, "after", null), "a discarded queue takes nothing more");
    }

    @Test
    void aBurstOfferedFromAnotherThreadIsWrittenByOneTaskAndFlushedOnce() {
        OutboundQueue q = queue(1 << 20, 1000, 100);
        sink.holdTasks = true;
        for (int i = 0; i < 10; i++) {
            offer(q, "f" + i, null);
        }
        assertEquals(1, sink.executed, "one drain task for the whole burst");
        assertTrue(sink.written().isEmpty(), "nothing is written off the socket's thread");
        sink.runTasks();
        assertEquals(10, sink.written().size());
        assertEquals(1, sink.flushes, "one flush, so one system call, for ten frames");
        offer(q, "f10", null);
        assertEquals(2, sink.executed, "a frame after the drain schedules a new one");
    }

    @Test
    void theSocketIsGivenNoMoreThanItHolds() {
        OutboundQueue q = queue(1 << 20, 1000, 3);
        for (int i = 0; i < 10; i++) {
            offer(q, "f" + i, null);
        }
        assertEquals(List.of("f0", "f1", "f2"), sink.written());
        assertEquals(7, q.depth());
        assertEquals(14, q.bytes(), "bytes count the frames still queued");
        sink.send();
        assertEquals(3, sink.written().size(), "the queue waits until the socket has sent what it holds");
        sink.send();
        sink.send();
        assertEquals(List.of("f0", "f1", "f2", "f3", "f4", "f5"), sink.written());
        sink.sendAll();
        sink.sendAll();
        assertEquals(10, sink.written().size());
        assertEquals(0, q.bytes());
    }

    @Test
    void aSinkThatCompletesAtOnceGetsEverythingInOrder() {
        List<String> written = new ArrayList<>();
        OutboundQueue q = new OutboundQueue(new TakeAllSink(frame -> written.add(frame.text())), counts, 100, 10);
        for (int i = 0; i < 50; i++) {
            assertTrue(offer(q, "f" + i, i % 2 == 0 ? null : "k"));
        }
        assertEquals(50, written.size());
        assertEquals("f0", written.get(0));
        assertEquals("f49", written.get(49));
        assertEquals(0, q.bytes());
    }

    @Test
    void conflationReplacesAQueuedFrameInPlace() {
        OutboundQueue q = queue(1 << 20, 1000, 1);
        offer(q, "first", null); // held by the socket: the others wait in the queue
        offer(q, "a1", "A");
        offer(q, "b1", "B");
        offer(q, "durable", null);
        assertTrue(offer(q, "a2", "A"));
        assertTrue(offer(q, "a3", "A"));
        assertEquals(3, q.depth(), "the newer frames of A replaced the queued one");
        assertEquals(2, counts.conflated.get());
        assertEquals("a3".length() + "b1".length() + "durable".length(), q.bytes(), "what waits in the queue");
        sink.sendAll();
        assertEquals(List.of("first", "a3", "b1", "durable"), sink.written(),
                "the newest frame of A takes the place of the first one: latest wins, never reordered after B");
    }

    @Test
    void aFrameAlreadyInFlightIsNeverConflated() {
        OutboundQueue q = queue(1 << 20, 1000, 1);
        offer(q, "a1", "A");
        assertEquals(List.of("a1"), sink.written());
        offer(q, "a2", "A");
        assertEquals(1, q.depth(), "queued behind the one in flight");
        assertEquals(0, counts.conflated.get());
        sink.send();
        assertEquals(List.of("a1", "a2"), sink.written());
        offer(q, "a3", "A"); // queued behind a2, which the socket holds
        offer(q, "a4", "A"); // replaces the queued a3, not a2
        assertEquals(1, counts.conflated.get());
        sink.sendAll();
        assertEquals(List.of("a1", "a2", "a4"), sink.written());
    }

    @Test
    void trimmingAQueueThatHoldsFramesLosesAndReordersNothing() {
        OutboundQueue q = queue(1 << 20, 1000, 1);
        offer(q, "first", null); // held by the socket: the others wait in the queue
        offer(q, "a1", "A");
        offer(q, "d1", null);
        assertEquals(2, q.trimAndDepth(), "what waits, as depth() says");
        assertTrue(offer(q, "a2", "A"), "the trim left the conflation of A in place");
        assertEquals(1, counts.conflated.get());
        sink.sendAll();
        assertEquals(List.of("first", "a2", "d1"), sink.written());
    }

    @Test
    void aQueueTrimmedOnceEmptyQueuesAndConflatesAsBefore() {
        OutboundQueue q = queue(1 << 20, 1000, 1);
        offer(q, "x", null);
        for (int i = 0; i < 100; i++) { // a burst: the queue grows to hold it
            offer(q, "b" + i, "B" + i);
        }
        sink.sendAll();
        assertEquals(0, q.trimAndDepth());
        offer(q, "y", null); // taken by the socket at once
        offer(q, "a1", "A");
        offer(q, "a2", "A");
        offer(q, "z", null);
        assertEquals(2, q.depth());
        assertEquals(1, counts.conflated.get(), "a2 replaced a1");
        assertEquals("a2".length() + "z".length(), q.bytes());
        sink.sendAll();
        assertEquals(List.of("y", "a2", "z"), sink.written().subList(101, 104));
        assertEquals(0, q.bytes());
    }

    @Test
    void keysOfDifferentFramesDoNotInterfere() {
        OutboundQueue q = queue(1 << 20, 1000, 1);
        offer(q, "x", null);
        offer(q, "a1", List.of("doc", "m-1", "update"));
        offer(q, "b1", List.of("doc", "m-1", "typing"));
        offer(q, "a2", List.of("doc", "m-1", "update"));
        sink.sendAll();
        assertEquals(List.of("x", "a2", "b1"), sink.written(), "keys compare by equality");
    }

    @Test
    void overflowByBytesClosesWith1013OnceAndRefusesLaterFrames() {
        OutboundQueue q = queue(10, 1000, 1);
        assertTrue(offer(q, "held", null), "the socket holds this one: the next ones wait in the queue");
        assertTrue(offer(q, "12345", null));
        assertTrue(offer(q, "1234", null));
        assertTrue(offer(q, "1", null), "exactly at the limit fits");
        assertFalse(offer(q, "x", null), "one byte more does not");
        assertEquals(List.of(OutboundQueue.SLOW_CONSUMER), sink.closes);
        assertEquals(1013, OutboundQueue.SLOW_CONSUMER);
        assertEquals(1, counts.overflowed.get());
        assertFalse(offer(q, "y", null));
        assertFalse(offer(q, "z", "K"));
        assertFalse(offer(q, "w".repeat(100), null));
        assertEquals(List.of(1013), sink.closes, "closed exactly once");
        assertEquals(1, counts.overflowed.get());
        assertEquals(0, q.depth(), "the queued frames are dropped");
        sink.sendAll();
        assertEquals(List.of("held"), sink.written(), "nothing is written after the overflow");
    }

    @Test
    void aSingleFrameLargerThanTheBufferOverflows() {
        OutboundQueue q = queue(10, 1000, 4);
        assertFalse(offer(q, "x".repeat(11), null));
        assertEquals(List.of(1013), sink.closes);
        assertTrue(sink.written().isEmpty());
    }

    @Test
    void aBacklogLargerThanTheBufferIsWrittenAtTheSocketsPaceAndWhatFollowsStillFits() {
        OutboundQueue q = queue(10, 1000, 1);
        String snapshot = "s".repeat(100); // a joined of a large document: ten times the buffer
        assertTrue(q.offerBacklog(Backlog.of("doc", List.of("r1"), snapshot)));
        assertTrue(offer(q, "12345", null), "an event behind it counts as usual");
        assertTrue(offer(q, "12345", null));
        assertFalse(offer(q, "1", null), "and fills the buffer as usual");
        assertEquals(List.of(OutboundQueue.SLOW_CONSUMER), sink.closes);
    }

    @Test
    void aReaderThatTakesABacklogLargerThanTheBufferGetsAllOfItAndWhatFollows() {
        OutboundQueue q = queue(10, 1000, 1);
        String snapshot = "s".repeat(100);
        assertTrue(q.offerBacklog(Backlog.of("doc", List.of("r1"), snapshot)));
        assertTrue(offer(q, "12345", null));
        for (int i = 0; i < 3; i++) {
            sink.sendAll();
        }
        assertTrue(sink.closes.isEmpty(), "a reader that takes it is not slow");
        assertEquals(List.of("r1", snapshot, "12345"), sink.written());
        assertEquals(0, q.depth());
        assertEquals(0, q.bytes());
    }

    @Test
    void aSecondBacklogOfTheSameDocumentCountsAgainstTheBuffer() {
        // a client that joins one large document again and again without reading: each joined is the
        // whole document; one waits uncounted, the next ones fill the send buffer and overflow it
        OutboundQueue q = queue(150, 1000, 1);
        String snapshot = "s".repeat(100);
        assertTrue(offer(q, "held", null), "the socket holds this one: the rest wait");
        assertTrue(q.offerBacklog(Backlog.of("doc", List.of(), snapshot)), "uncounted");
        assertTrue(q.offerBacklog(Backlog.of("doc", List.of(), snapshot)), "counted: 100 of 150");
        assertEquals(100, q.bytes());
        assertTrue(q.offerBacklog(Backlog.of("other", List.of(), snapshot)), "another document's waits uncounted");
        assertFalse(q.offerBacklog(Backlog.of("doc", List.of(), snapshot)), "200 of 150");
        assertEquals(List.of(OutboundQueue.SLOW_CONSUMER), sink.closes);
        assertEquals(1, counts.overflowed.get());
        assertEquals(0, q.depth(), "what waited is dropped");
    }

    @Test
    void pastTheirBoundBacklogsOfOtherDocumentsCountToo() {
        sink.capacity = 1;
        OutboundQueue q = new OutboundQueue(sink, counts, 10, 1000, 0, 2);
        assertTrue(offer(q, "held", null));
        assertTrue(q.offerBacklog(Backlog.of("a", List.of(), "x".repeat(50))));
        assertTrue(q.offerBacklog(Backlog.of("b", List.of(), "x".repeat(50))), "two wait: the bound");
        assertFalse(q.offerBacklog(Backlog.of("c", List.of(), "x".repeat(50))), "a third counts: 50 of 10");
        assertEquals(List.of(OutboundQueue.SLOW_CONSUMER), sink.closes);
    }

    @Test
    void backlogsThatWereWrittenNoLongerWait() {
        sink.capacity = 1;
        OutboundQueue q = new OutboundQueue(sink, counts, 1 << 20, 1000, 0, 1);
        for (int i = 0; i < 5; i++) {
            assertTrue(offer(q, "held" + i, null), "the socket holds this one: the backlog waits");
            assertTrue(q.offerBacklog(Backlog.of("doc", List.of("h" + i), null)), "backlog " + i);
            assertEquals(0, q.bytes(), "waiting uncounted: the one before it no longer waits");
            sink.sendAll();
        }
        assertTrue(sink.closes.isEmpty());
        assertEquals(List.of("held0", "h0", "held1", "h1", "held2", "h2", "held3", "h3", "held4", "h4"), sink.written());
    }

    @Test
    void aCloseThatDropsABacklogDropsTheDurableEventsBehindItSoThatAResumeMissesNothing() {
        // the client resumes from the last offset it saw: an event after a replay cut short would
        // make it skip the rest of the replay for good
        OutboundQueue q = queue(1 << 20, 1000, 1);
        String early = "{\"type\":\"broadcast\",\"doc\":\"d\",\"data\":0,\"offset\":\"1-5\"}";
        String late = "{\"type\":\"broadcast\",\"doc\":\"d\",\"data\":9,\"offset\":\"1-120\"}";
        String cursor = "{\"type\":\"presence\",\"doc\":\"d\",\"event\":\"update\"}";
        assertTrue(offer(q, early, null), "before the backlog: it goes");
        assertTrue(q.offerBacklog(Backlog.of("d", List.of("r51", "r52"), "joined")));
        assertTrue(offer(q, late, null));
        assertTrue(offer(q, cursor, "K"));
        assertTrue(offer(q, "{\"type\":\"error\",\"code\":\"unauthorized\"}", null));
        q.close(4401, "token expired");
        sink.sendAll();
        sink.sendAll();
        sink.sendAll();
        assertEquals(List.of(early, cursor, "{\"type\":\"error\",\"code\":\"unauthorized\"}"), sink.written());
        assertEquals(List.of(4401), sink.closes);
        assertEquals(0, q.bytes());
    }

    @Test
    void aCloseDropsTheBacklogsButSendsTheErrorBeforeIt() {
        OutboundQueue q = queue(1 << 20, 1000, 1);
        assertTrue(offer(q, "held", null));
        assertTrue(q.offerBacklog(Backlog.of("doc", List.of("r1", "r2"), "joined")));
        assertTrue(q.offerBacklog(Backlog.of("doc", List.of(), "joined again")));
        assertTrue(offer(q, "error", null));
        q.close(1008, "too many bad messages");
        sink.sendAll();
        sink.sendAll();
        assertEquals(List.of("held", "error"), sink.written(), "no document's worth of state before a close");
        assertEquals(List.of(1008), sink.closes);
    }

    @Test
    void overflowByFrameCountClosesWith1013Once() {
        OutboundQueue q = queue(1 << 20, 2, 1);
        assertTrue(offer(q, "a", null));
        assertTrue(offer(q, "b", null));
        assertTrue(offer(q, "c", "C"), "the frame the socket holds does not count: 2 queued fit");
        assertTrue(offer(q, "c2", "C"));
        assertTrue(offer(q, "c3", "C"), "conflating a queued frame adds none");
        assertEquals(List.of(), sink.closes);
        assertFalse(offer(q, "d", null));
        assertEquals(List.of(1013), sink.closes);
        assertFalse(offer(q, "e", null));
        assertFalse(offer(q, "e", "C"));
        assertEquals(List.of(1013), sink.closes);
        assertEquals(1, counts.overflowed.get());
        sink.sendAll();
        assertEquals(List.of("a"), sink.written());
    }

    @Test
    void completedWritesMakeRoomAgain() {
        OutboundQueue q = queue(4, 2, 1);
        for (int i = 0; i < 20; i++) {
            assertTrue(offer(q, "ab", null), "frame " + i);
            sink.send();
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
        offer(q, "x", null);
        offer(q, "a", "A");
        boolean accepted = offer(q, "A".repeat(1000), "A");
        assertThat("bytes held: " + q.bytes() + ", accepted: " + accepted + ", closes: " + sink.closes, q.bytes(),
                lessThanOrEqualTo(100L));
        assertFalse(accepted);
        assertEquals(List.of(1013), sink.closes);
    }

    @Test
    void aCloseIsSentAfterTheFramesQueuedBeforeItWithoutWaitingForAFullSocket() {
        OutboundQueue q = queue(1 << 20, 1000, 1);
        offer(q, "a", null);
        offer(q, "error", null); // the socket holds "a" and takes no more: this one waits in the queue
        assertEquals(List.of("a"), sink.written());
        q.close(1008, "rate limit exceeded persistently");
        assertFalse(offer(q, "late", null), "nothing is accepted after the close");
        // a client that never reads again must not keep its connection: the socket is handed the
        // rest at once, full or not, and then the close (which has a deadline of its own)
        assertEquals(List.of("a", "error"), sink.written(), "what was queued before the close goes first");
        assertEquals(List.of(1008), sink.closes);
        sink.sendAll(); // the socket's call back, once it has sent what it held, finds nothing left
        assertEquals(List.of("a", "error"), sink.written());
        q.close(1000, "again");
        assertEquals(List.of(1008), sink.closes, "closed once");
    }

    @Test
    void discardDropsEverything() {
        OutboundQueue q = queue(1 << 20, 1000, 1);
        offer(q, "a", null);
        offer(q, "b", null);
        offer(q, "c", "K");
        q.discard();
        assertEquals(0, q.depth());
        assertFalse(offer(q, "d", null));
        assertFalse(offer(q, "e", "K"));
        sink.sendAll();
        assertEquals(List.of("a"), sink.written(), "only the frame the socket already held was written");
        assertTrue(sink.closes.isEmpty(), "discard is for a connection already gone: no close");
    }

    @Test
    void aFailedWriteDiscardsTheRest() {
        OutboundQueue q = queue(1 << 20, 1000, 1);
        offer(q, "a", null);
        offer(q, "b", null);
        offer(q, "c", null);
        sink.fail();
        assertEquals(List.of("a"), sink.written());
        assertEquals(0, q.depth());
        assertFalse(offer(q, "d", null));
        sink.sendAll();
        assertFalse(sink.written().contains("c"), "nothing queued behind a failed write is written");
        assertFalse(sink.written().contains("d"));
    }

    @Test
    void offersFromManyThreadsKeepEachThreadsOrderAndTheSocketsBound() throws Exception {
        ExecutorService socketThread = Executors.newSingleThreadExecutor();
        try {
            sink.loop = socketThread;
            OutboundQueue q = queue(1 << 24, 100_000, 4);
            int threads = 4;
            int perThread = 500;
            List<Thread> started = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                Thread th = new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        offer(q, thread + ":" + i, null);
                    }
                });
                th.start();
                started.add(th);
            }
            // the network takes what the socket holds until every frame went through
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> socketThread.submit(() -> {
                sink.sendAll();
                return sink.written.size();
            }).get() == threads * perThread);
            for (Thread th : started) {
                th.join();
            }
            List<String> written = socketThread.submit(sink::written).get();
            assertThat(socketThread.submit(() -> sink.maxHeld).get(), lessThanOrEqualTo(4));
            int[] last = new int[threads];
            java.util.Arrays.fill(last, -1);
            for (String frame : written) {
                int thread = Integer.parseInt(frame.substring(0, frame.indexOf(':')));
                int i = Integer.parseInt(frame.substring(frame.indexOf(':') + 1));
                assertEquals(last[thread] + 1, i, "frames of one thread stay in order");
                last[thread] = i;
            }
            assertEquals(0, q.bytes());
        } finally {
            socketThread.shutdownNow();
        }
    }

    // ---- ephemeral write delay -----------------------------------------------------------------

    private OutboundQueue delayedQueue(long delayMillis) {
        sink.capacity = 100;
        return new OutboundQueue(sink, counts, 1 << 20, 1000, delayMillis);
    }

    @Test
    void ephemeralFramesWaitOutTheDelayThenLeaveTogetherConflated() {
        OutboundQueue q = delayedQueue(10);
        offer(q, "ada 1", "ada");
        offer(q, "bob 1", "bob");
        offer(q, "ada 2", "ada");
        assertEquals(List.of(), sink.written(), "nothing written before the delay is out");
        assertEquals(List.of(10L), sink.delays, "one delayed drain for the burst");

        sink.runTasks();
        assertEquals(List.of("ada 2", "bob 1"), sink.written(), "ada's newer update took the older one's place");
        assertEquals(1, sink.flushes, "one write for the burst");
        assertEquals(1, counts.conflated.get());
    }

    @Test
    void aFrameThatMustArriveEndsTheWaitWithWhatHasGathered() {
        OutboundQueue q = delayedQueue(10);
        offer(q, "ada 1", "ada");
        offer(q, "answer", null);
        assertEquals(List.of("ada 1", "answer"), sink.written(), "written at once, in order");

        sink.runTasks(); // the delayed drain, now with nothing to do
        assertEquals(List.of("ada 1", "answer"), sink.written());
        assertEquals(1, sink.flushes);
        offer(q, "ada 2", "ada");
        assertEquals(List.of(10L, 10L), sink.delays, "the next update waits again");
    }

    @Test
    void aCloseEndsTheWait() {
        OutboundQueue q = delayedQueue(10);
        offer(q, "ada 1", "ada");
        q.close(1000, "bye");
        assertEquals(List.of("ada 1"), sink.written(), "what was queued before the close goes first");
        assertEquals(List.of(1000), sink.closes);
    }

    @Test
    void withoutADelayEphemeralFramesAreWrittenAtOnce() {
        OutboundQueue q = delayedQueue(0);
        offer(q, "ada 1", "ada");
        assertEquals(List.of("ada 1"), sink.written());
        assertEquals(List.of(), sink.delays);
    }
}
