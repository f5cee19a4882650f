package dev.copresence.channel;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import dev.copresence.engine.DocEvent;
import dev.copresence.engine.Offsets;
import dev.copresence.flow.Frame;

/**
 * A read-only observer of one document (an SSE stream or a long poll), not a member: it gets every
 * event of the document except signals. Like a joining {@link LocalMember} it is pending from the
 * moment it is attached (the document is subscribed) until its reader has read the snapshot or log up
 * to an offset ({@link #activate}); events that arrive meanwhile are held, and only those newer than
 * that offset are passed on, so nothing published after the subscription is missed or repeated.
 *
 * <p>A reader that opened with a member list ({@link #activate(String, Collection)}) also gets no
 * {@code update} or {@code typing} from a member outside it until the list is sure to be current: an
 * update published just before its member left, which the list already counts gone, may arrive on
 * the bus after the list was read, and its leave, older than the list, is dropped; a reader adding
 * members on update would keep a ghost. Redis publishes in the order it runs commands, so once a
 * durable event newer than the list arrives, everything published before the list was read has; a
 * member who joined since has its join, newer than the list, come first. Without durable traffic the
 * filter ends after {@link #SETTLE_NANOS}. Two cases it does not cover, both bounded: while a hub
 * holds durable events for a catch-up after a bus gap, a new member's updates can come before its
 * join and are dropped (for at most that time), and a durable event of the catch-up's log read,
 * which does not come over the bus, can end the filter before a ghost update still on the bus
 * arrives. {@link LocalMember} has the same two.
 */
public final class Observer {
    /** How long, at most, updates from members outside the opening list are held back. */
    static final long SETTLE_NANOS = TimeUnit.SECONDS.toNanos(2);

    final String doc;
    private final BiConsumer<DocEvent, Frame> sink;
    private final Runnable overflow;
    /** Durable events at or before this offset are already known to the reader. */
    private String seen;
    private List<DocEvent> pending = new ArrayList<>();
    private boolean closed;
    /** The opening list's member ids, while updates from others are dropped; null otherwise. */
    private Set<String> settling;
    private long settledNanos;

    /**
     * @param sink receives the events in order, each with its frame (shared by every reader of the
     *        event: encoded once), on the engine's thread; must not block
     * @param overflow called (once) when more than {@link LocalMember#MAX_PENDING} events arrive before
     *        {@link #activate}, or when the node missed events for good ({@link DocumentHub#lost}): the
     *        reader cannot follow and should end
     */
    public Observer(String doc, BiConsumer<DocEvent, Frame> sink, Runnable overflow) {
        this.doc = doc;
        this.sink = sink;
        this.overflow = overflow;
    }

    public String doc() {
        return doc;
    }

    synchronized void deliver(DocEvent event, Frame frame) {
        if (closed || event.kind() == DocEvent.Kind.SIGNAL) {
            return;
        }
        if (pending != null) {
            if (pending.size() >= LocalMember.MAX_PENDING) {
                cannotFollow();
                return;
            }
            pending.add(event);
            return;
        }
        pass(event, frame);
    }

    private void pass(DocEvent event, Frame frame) {
        if (event.kind().durable()) {
            if (seen != null && Offsets.compare(event.offset(), seen) <= 0) {
                return;
            }
            seen = event.offset();
            settling = null; // newer than the opening list: whatever came before the list has arrived
        } else if (settling != null && ghost(event)) {
            return;
        }
        sink.accept(event, frame);
    }

    /** An update or typing from a member the opening list already counts gone (or never had). */
    private boolean ghost(DocEvent event) {
        if (System.nanoTime() - settledNanos >= 0) {
            settling = null;
            return false;
        }
        return !settling.contains(event.origin());
    }

    /**
     * Ends the pending phase: the reader has everything up to {@code offset} (null: an empty document);
     * the events held meanwhile that are newer go to the sink now, then every later one as it comes.
     */
    public synchronized void activate(String offset) {
        activate(offset, null);
    }

    /**
     * As {@link #activate(String)}, for a reader that opened with the document's member list (ids
     * {@code members}, read at {@code offset}): updates from members outside it are dropped until the
     * list is sure to be current (see the class comment).
     */
    public synchronized void activate(String offset, Collection<String> members) {
        if (closed || pending == null) {
            return;
        }
        if (members != null) {
            settling = new HashSet<>(members);
            settledNanos = System.nanoTime() + SETTLE_NANOS;
        }
        seen = offset;
        List<DocEvent> held = pending;
        pending = null;
        held.forEach(event -> pass(event, new Frame(event.frame())));
    }

    /** The last durable event the reader has, once active: it opened there or was sent it. Else null. */
    synchronized String seen() {
        return pending == null && !closed ? seen : null;
    }

    /**
     * The reader cannot follow (too many events while it opens, or the node missed some for good,
     * {@link DocumentHub#lost}): no more events reach it, and {@code overflow} ends it, once.
     */
    synchronized void cannotFollow() {
        if (!closed) {
            close();
            overflow.run();
        }
    }

    /** No more events reach the sink (the reader went away). */
    public synchronized void close() {
        closed = true;
        pending = null;
        settling = null;
    }
}
