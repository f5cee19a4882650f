package dev.copresence.flow;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import io.smallrye.mutiny.Uni;

/**
 * The bounded queue in front of one connection's socket. websockets-next never checks a full write
 * queue, so this is what bounds a node's memory per connection:
 * <ul>
 * <li>at most {@code maxBytes} (characters of encoded frames, queued or being written) and
 * {@code maxFrames} frames; past either the connection is closed with 1013 ("try again later"), so a
 * durable event is never dropped silently: the client resumes from its last offset;</li>
 * <li>ephemeral frames carry a key (document, member, kind): a newer one replaces the queued older
 * one in place, so a cursor storm costs a slow reader one frame per member;</li>
 * <li>at most {@code window} writes in flight; the queue drains as writes complete.</li>
 * </ul>
 * {@link #offer} never blocks and may be called from any thread. Writes are issued by one thread at
 * a time, in queue order (a work-in-progress counter, as in Reactive Streams operators).
 */
public final class OutboundQueue {
    /** Where frames go: the socket, and how to close it. */
    public interface Sink {
        Uni<Void> write(String frame);

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

    private static final class Item {
        String frame;
        final Object key;
        /** A replayed history, taken one frame at a time as writes complete: it may exceed the bound. */
        final Iterator<String> backlog;

        Item(String frame, Object key) {
            this(frame, key, null);
        }

        Item(String frame, Object key, Iterator<String> backlog) {
            this.frame = frame;
            this.key = key;
            this.backlog = backlog;
        }
    }

    private final Sink sink;
    private final Listener listener;
    private final int maxBytes;
    private final int maxFrames;
    private final int window;
    private final ArrayDeque<Item> queue = new ArrayDeque<>();
    private final Map<Object, Item> queuedByKey = new HashMap<>();
    private final AtomicInteger wip = new AtomicInteger();
    private long bytes;
    private int inFlight;
    private boolean closed;

    public OutboundQueue(Sink sink, Listener listener, int maxBytes, int maxFrames, int window) {
        this.sink = sink;
        this.listener = listener;
        this.maxBytes = maxBytes;
        this.maxFrames = maxFrames;
        this.window = window;
    }

    /**
     * Queues a frame for the socket.
     *
     * @param key null for a frame that must arrive (durable events, answers); else the conflation key
     * @return false when the queue is closed, or the frame did not fit and the connection is being closed
     */
    public boolean offer(String frame, Object key) {
        boolean overflow = false;
        synchronized (this) {
            if (closed) {
                return false;
            }
            Item queued = key == null ? null : queuedByKey.get(key);
            if (queued != null && bytes + frame.length() - queued.frame.length() <= maxBytes) {
                bytes += frame.length() - queued.frame.length();
                queued.frame = frame;
                listener.conflated();
            } else if (queued != null || bytes + frame.length() > maxBytes || queue.size() + inFlight >= maxFrames) {
                overflow = true;
                discardLocked();
            } else {
                Item item = new Item(frame, key);
                queue.addLast(item);
                bytes += frame.length();
                if (key != null) {
                    queuedByKey.put(key, item);
                }
            }
        }
        if (overflow) {
            listener.overflowed();
            sink.close(SLOW_CONSUMER, "slow consumer: send buffer full");
            return false;
        }
        drain();
        return true;
    }

    /**
     * Queues a replayed history. It is written at the pace of the socket, one frame at a time, so a
     * resume longer than the send buffer does not count as a slow consumer; what is offered after it
     * waits behind it (and that, as usual, must fit).
     */
    public boolean offerBacklog(List<String> frames) {
        if (frames.isEmpty()) {
            return true;
        }
        synchronized (this) {
            if (closed) {
                return false;
            }
            queue.addLast(new Item(null, null, frames.iterator()));
        }
        drain();
        return true;
    }

    private void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            Item item;
            while ((item = next()) != null) {
                String frame = item.frame;
                sink.write(frame).subscribe().with(ok -> written(frame), failure -> {
                    written(frame);
                    discard();
                });
            }
            missed = wip.addAndGet(-missed);
        } while (missed != 0);
    }

    private synchronized Item next() {
        if (closed || inFlight >= window || queue.isEmpty()) {
            return null;
        }
        Item head = queue.peekFirst();
        if (head.backlog != null) {
            if (!head.backlog.hasNext()) {
                queue.pollFirst();
                return next();
            }
            String frame = head.backlog.next();
            bytes += frame.length();
            inFlight++;
            return new Item(frame, null);
        }
        Item item = queue.pollFirst();
        if (item.key != null) {
            queuedByKey.remove(item.key);
        }
        inFlight++;
        return item;
    }

    private void written(String frame) {
        synchronized (this) {
            inFlight--;
            bytes -= frame.length();
        }
        drain();
    }

    /** Drops whatever is queued: the connection is gone. */
    public synchronized void discard() {
        discardLocked();
    }

    private void discardLocked() {
        closed = true;
        for (Item item : queue) {
            if (item.frame != null) {
                bytes -= item.frame.length();
            }
        }
        queue.clear();
        queuedByKey.clear();
    }

    /** Frames queued and not yet handed to the socket. */
    public synchronized int depth() {
        return queue.size();
    }

    /** Characters queued or being written. */
    public synchronized long bytes() {
        return bytes;
    }
}
