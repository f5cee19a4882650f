package dev.copresence.flow;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The bounded queue in front of one connection's socket. websockets-next never checks a full write
 * queue, so this is what bounds a node's memory per connection:
 * <ul>
 * <li>at most {@code maxBytes} (characters of encoded frames) and {@code maxFrames} frames wait here;
 * past either the connection is closed with 1013 ("try again later"), so a durable event is never
 * dropped silently: the client resumes from its last offset;</li>
 * <li>ephemeral frames carry a key (document, member, kind): a newer one replaces the queued older
 * one in place, so a cursor storm costs a slow reader one frame per member;</li>
 * <li>frames leave the queue only while the socket is {@linkplain Sink#writable() writable} (its own
 * buffer is bounded too); the rest wait here, where they can still be conflated;</li>
 * <li>a {@link Backlog} (a document's history or members, handed over at once) is written at the
 * socket's pace and not counted, as it may be larger than the bound; one per document and at most
 * {@code maxBacklogs} wait so, and another of the same document counts like any frame.</li>
 * </ul>
 * {@link #offer} never blocks and may be called from any thread. Writing happens on the socket's own
 * thread, in a drain task: every frame queued by then is written, then flushed once, so a burst of
 * events costs one system call per connection rather than one per frame, and a fan-out from another
 * thread costs one task per connection rather than one per frame. With an ephemeral write delay, a
 * drain started by an ephemeral frame waits that long first, so that a storm of cursor updates
 * leaves in fewer, larger writes (and conflates meanwhile); any other frame ends the wait.
 */
public final class OutboundQueue {
    /** The socket: its thread, its own buffer, and how to close it. */
    public interface Sink {
        /** Runs a task on the socket's thread, after the tasks already given to it. */
        void execute(Runnable task);

        /** Runs a task on the socket's thread in {@code delayMillis}; a socket that cannot wait runs it as {@link #execute}. */
        default void executeLater(Runnable task, long delayMillis) {
            execute(task);
        }

        /** False once the socket is closing or closed: nothing more can be written. */
        boolean open();

        /** False while the socket holds as much unsent data as it may: the queue keeps the rest. */
        boolean writable();

        /** Writes a frame, sent at the next {@link #flush}. On the socket's thread only. */
        void write(Frame frame);

        /** On the socket's thread only. */
        void flush();

        /** Runs {@code then} on the socket's thread once what was written so far has left, or failed. */
        void whenFlushed(Runnable then);

        void close(int code, String reason);
    }

    /** What the queue reports to metrics. */
    public interface Listener {
        void conflated();

        void overflowed();

        Listener NONE = new Listener() {
            @Override
            public void conflated() {
            }

            @Override
            public void overflowed() {
            }
        };
    }

    public static final int SLOW_CONSUMER = 1013;

    /** How a drain is to be started, decided under the lock and done outside it. */
    private static final int NO_DRAIN = 0;
    private static final int DRAIN_NOW = 1;
    private static final int DRAIN_LATER = 2;

    private static final class Item {
        Frame frame;
        final Object key;
        /** Taken one frame at a time while the socket takes it. */
        final Backlog backlog;

        Item(Frame frame, Object key, Backlog backlog) {
            this.frame = frame;
            this.key = key;
            this.backlog = backlog;
        }
    }

    private final Sink sink;
    private final Listener listener;
    private final int maxBytes;
    private final int maxFrames;
    /**
     * Shorts, as is {@link #backlogs}: the two fit where the object's fields left padding, where two
     * ints made every connection's queue 8 bytes larger (80 to 88; tens of thousands of them sit idle).
     */
    private final short maxBacklogs;
    private final long ephemeralDelayMillis;
    private final Runnable drainTask = this::drain;
    /**
     * The oldest queued frame when it came to an empty queue and carries no key: most frames do (one
     * event per drain), and holding it here spares the deque and an item per delivery, memory a
     * fan-out to thousands of sockets would otherwise touch twice. Everything in {@link #queue} is newer.
     */
    private Frame first;
    /**
     * Made when a frame must wait behind another (again after a {@link #trimAndDepth}); its size is
     * kept in {@link #items} so that an empty one is not touched.
     */
    private ArrayDeque<Item> queue;
    private int items;
    /** Backlogs among the items that are not counted against the bound: their number is bounded instead. */
    private short backlogs;
    /** Made on the first keyed frame (most connections never queue one), again after a {@link #trimAndDepth}. */
    private Map<Object, Item> queuedByKey;
    private long bytes;
    /** A drain task is given to the socket's thread, or waits for the socket to take more. */
    private boolean draining;
    /** The drain under way is one waiting out the ephemeral write delay. */
    private boolean delayed;
    /** No more offers: the connection is closing or gone. */
    private boolean closed;
    /** A close asked for once the frames queued before it are written (0: none). */
    private int closeCode;
    private String closeReason;

    /** Uncounted backlogs waiting at once when the owner does not say: a connection's documents by default. */
    public static final int DEFAULT_MAX_BACKLOGS = 64;

    public OutboundQueue(Sink sink, Listener listener, int maxBytes, int maxFrames) {
        this(sink, listener, maxBytes, maxFrames, 0, DEFAULT_MAX_BACKLOGS);
    }

    public OutboundQueue(Sink sink, Listener listener, int maxBytes, int maxFrames, long ephemeralDelayMillis) {
        this(sink, listener, maxBytes, maxFrames, ephemeralDelayMillis, DEFAULT_MAX_BACKLOGS);
    }

    /**
     * @param ephemeralDelayMillis how long a drain started by an ephemeral frame waits (0: it does not)
     * @param maxBacklogs uncounted backlogs ({@link #offerBacklog}) waiting at once; past it they count
     */
    public OutboundQueue(Sink sink, Listener listener, int maxBytes, int maxFrames, long ephemeralDelayMillis,
            int maxBacklogs) {
        this.sink = sink;
        this.listener = listener;
        this.maxBytes = maxBytes;
        this.maxFrames = maxFrames;
        this.ephemeralDelayMillis = ephemeralDelayMillis;
        this.maxBacklogs = (short) Math.max(1, Math.min(maxBacklogs, Short.MAX_VALUE));
    }

    /** Queues a frame that must arrive (an answer, a durable event). */
    public boolean offer(String frame) {
        return offer(new Frame(frame), null);
    }

    /**
     * Queues a frame for the socket.
     *
     * @param key null for a frame that must arrive (durable events, answers); else the conflation key
     * @return false when the queue is closed, or the frame did not fit and the connection is being closed
     */
    public boolean offer(Frame frame, Object key) {
        boolean overflow = false;
        int drain = NO_DRAIN;
        synchronized (this) {
            if (closed) {
                return false;
            }
            Item queued = key == null || queuedByKey == null ? null : queuedByKey.get(key);
            if (queued != null && bytes + frame.length() - queued.frame.length() <= maxBytes) {
                bytes += frame.length() - queued.frame.length();
                queued.frame = frame;
                listener.conflated();
            } else if (queued != null || full(frame.length())) {
                overflow = true;
                discardLocked();
            } else if (key == null && depthLocked() == 0) {
                first = frame;
                bytes += frame.length();
                drain = startDraining(false);
            } else {
                Item item = new Item(frame, key, null);
                enqueue(item);
                bytes += frame.length();
                if (key != null) {
                    if (queuedByKey == null) {
                        queuedByKey = new HashMap<>();
                    }
                    queuedByKey.put(key, item);
                }
                drain = startDraining(key != null);
            }
        }
        if (overflow) {
            return overflowed();
        }
        start(drain);
        return true;
    }

    /** Under the lock: whether {@code chars} more, as one more item, would pass the queue's bounds. */
    private boolean full(long chars) {
        return bytes + chars > maxBytes || depthLocked() >= maxFrames;
    }

    private boolean overflowed() {
        listener.overflowed();
        sink.close(SLOW_CONSUMER, "slow consumer: send buffer full");
        return false;
    }

    /**
     * Queues what a reader is handed at once about one document (its replay and {@code joined}, an
     * event stream's opening), written at the pace of the socket: a resume or a snapshot longer than
     * the send buffer does not make a slow consumer; what is offered after it waits behind it (and
     * that, as usual, must fit). One backlog per document, and {@code maxBacklogs} in all, wait so;
     * any other (a client that joins a document again and again without reading) counts against the
     * send buffer like any frame, and overflows it as they do.
     */
    public boolean offerBacklog(Backlog backlog) {
        if (!backlog.hasNext()) {
            return true;
        }
        boolean overflow = false;
        int drain = NO_DRAIN;
        synchronized (this) {
            if (closed) {
                return false;
            }
            if (backlogs < maxBacklogs && !waiting(backlog.key())) {
                backlogs++;
            } else if (full(backlog.remaining())) {
                overflow = true;
                discardLocked();
            } else {
                backlog.counted = true;
                bytes += backlog.remaining();
            }
            if (!overflow) {
                enqueue(new Item(null, null, backlog));
                drain = startDraining(false);
            }
        }
        if (overflow) {
            return overflowed();
        }
        start(drain);
        return true;
    }

    /** Whether an uncounted backlog of this document waits. */
    private boolean waiting(Object key) {
        if (queue == null || backlogs == 0) {
            return false;
        }
        for (Item item : queue) {
            if (item.backlog != null && !item.backlog.counted && item.backlog.key().equals(key)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Closes the connection once the frames queued before this call are written, so that an error
     * explaining the close arrives before it; nothing offered afterwards is sent. Its backlogs are
     * dropped, with the durable events behind them ({@link #dropBacklogs}): a closing socket takes what
     * is left without waiting to be writable, and a document's worth of state is the client's to ask
     * for again when it reconnects. (A slow consumer is closed at once instead: its queue is what is
     * too long.)
     *
     * @return true when this call began the close, false when the queue was closing or closed already
     */
    public boolean close(int code, String reason) {
        return close(code, reason, null);
    }

    /**
     * As {@link #close(int, String)}, and runs {@code ifFirst}, under the queue's lock, only when this
     * close is the connection's first: what its goodbye reads of the reason is then set before any
     * goodbye can run, and never by a close that came second.
     */
    public boolean close(int code, String reason, Runnable ifFirst) {
        int drain;
        synchronized (this) {
            if (closed) {
                return false;
            }
            if (ifFirst != null) {
                ifFirst.run();
            }
            closed = true;
            closeCode = code;
            closeReason = reason;
            dropBacklogs(); // what explains the close goes before it, not a document's worth of state
            // A close never waits for the drain under way, which may be waiting for a socket whose
            // client never reads again: a drain of its own hands the socket the rest (bounded), then
            // the close, which has a deadline of its own. A drain already handed to the socket's
            // thread runs before or after it, and then finds nothing left.
            draining = true;
            delayed = false;
            drain = DRAIN_NOW;
        }
        start(drain);
        return true;
    }

    /**
     * Under the lock, once a frame is queued: a drain to start when none is under way (a delayed one
     * for an ephemeral frame, if the queue has a delay), or, for any other frame, one now in place of
     * a drain still waiting out the delay (which then finds less or nothing to do).
     */
    private int startDraining(boolean ephemeral) {
        if (!draining) {
            draining = true;
            delayed = ephemeral && ephemeralDelayMillis > 0;
            return delayed ? DRAIN_LATER : DRAIN_NOW;
        }
        if (!ephemeral && delayed) {
            delayed = false;
            return DRAIN_NOW;
        }
        return NO_DRAIN;
    }

    private void start(int drain) {
        if (drain == DRAIN_NOW) {
            sink.execute(drainTask);
        } else if (drain == DRAIN_LATER) {
            sink.executeLater(drainTask, ephemeralDelayMillis);
        }
    }

    /**
     * On the socket's thread: writes what the socket takes, flushes once, and waits for it if it is full.
     * One lock for the whole drain: an offer from another thread waits no longer than the writes to
     * the socket's own buffer take, and a delivery costs one lock here rather than one per frame.
     */
    private void drain() {
        boolean wrote = false;
        boolean full = false;
        int closing = 0;
        String reason = null;
        synchronized (this) {
            delayed = false;
            // Asked once a drain: the socket's state changes on its own thread, where this task runs, so
            // it cannot close mid-drain (a close asked from elsewhere runs after it).
            boolean open = sink.open();
            while (true) {
                if (depthLocked() == 0 || !open) {
                    draining = false;
                    closing = closeCode;
                    reason = closeReason;
                    if (closing != 0 || !open) {
                        discardLocked();
                    }
                    break;
                }
                // a closing queue is bounded (its backlogs were dropped) and about to go: the socket takes all of it
                if (closeCode == 0 && !sink.writable()) {
                    full = true; // still draining: the socket calls back once it has sent what it holds
                    break;
                }
                sink.write(next());
                wrote = true;
            }
        }
        if (wrote) {
            sink.flush();
        }
        if (full) {
            sink.whenFlushed(drainTask);
        } else if (closing != 0) {
            sink.close(closing, reason);
        }
    }

    private void enqueue(Item item) {
        if (queue == null) {
            queue = new ArrayDeque<>(4);
        }
        queue.addLast(item);
        items++;
    }

    /** The oldest frame; the queue holds one (an empty backlog is never queued, a used one leaves at once). */
    private Frame next() {
        if (first != null) {
            Frame frame = first;
            first = null;
            bytes -= frame.length();
            return frame;
        }
        Item head = queue.peekFirst();
        Backlog backlog = head.backlog;
        if (backlog != null) {
            Frame frame = backlog.next();
            if (backlog.counted) {
                bytes -= frame.length();
            }
            if (!backlog.hasNext()) { // gone once its last frame is: it no longer waits
                queue.pollFirst();
                items--;
                if (!backlog.counted) {
                    backlogs--;
                }
            }
            return frame;
        }
        queue.pollFirst();
        items--;
        if (head.key != null) {
            queuedByKey.remove(head.key);
        }
        bytes -= head.frame.length();
        return head.frame;
    }

    /**
     * Drops the backlogs, and every durable event behind the first of them: the client resumes from
     * the last offset it saw, and an event after a replay cut short would make it skip the rest of
     * the replay for good. Answers and errors (no offset) and ephemeral events still go.
     */
    private void dropBacklogs() {
        if (queue == null) {
            return;
        }
        boolean behindOne = false;
        for (Iterator<Item> it = queue.iterator(); it.hasNext();) {
            Item item = it.next();
            Backlog backlog = item.backlog;
            if (backlog != null) {
                behindOne = true;
                it.remove();
                items--;
                if (backlog.counted) {
                    bytes -= backlog.remaining();
                } else {
                    backlogs--;
                }
            } else if (behindOne && item.key == null && item.frame.offset() != null) {
                it.remove();
                items--;
                bytes -= item.frame.length();
            }
        }
    }

    /** Drops whatever is queued: the connection is gone. */
    public synchronized void discard() {
        discardLocked();
    }

    private void discardLocked() {
        closed = true;
        closeCode = 0;
        first = null;
        queue = null;
        items = 0;
        backlogs = 0;
        queuedByKey = null;
        bytes = 0;
    }

    /** Frames queued and not yet handed to the socket. */
    public synchronized int depth() {
        return depthLocked();
    }

    /**
     * Lets the queue's storage go if nothing is queued, and returns the frames queued, as
     * {@link #depth}. A burst grows the deque and the conflation map up to the bounds, and neither
     * ever shrinks: a connection would otherwise hold them, as large, for its life. Called once per
     * ping period (the liveness tick samples each socket's depth as it pings it), not at every drain,
     * so that a busy socket makes them anew at most that often rather than for each burst.
     */
    public synchronized int trimAndDepth() {
        if (items == 0) {
            queue = null;
            queuedByKey = null;
        }
        return depthLocked();
    }

    private int depthLocked() {
        return first != null ? items + 1 : items;
    }

    /** Characters queued and not yet handed to the socket. */
    public synchronized long bytes() {
        return bytes;
    }
}
