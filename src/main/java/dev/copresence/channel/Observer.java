package dev.copresence.channel;

import java.util.ArrayList;
import java.util.List;
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
 */
public final class Observer {
    final String doc;
    private final BiConsumer<DocEvent, Frame> sink;
    private final Runnable overflow;
    /** Durable events at or before this offset are already known to the reader. */
    private String seen;
    private List<DocEvent> pending = new ArrayList<>();
    private boolean closed;

    /**
     * @param sink receives the events in order, each with its frame (shared by every reader of the
     *        event: encoded once), on the engine's thread; must not block
     * @param overflow called (once) when more than {@link LocalMember#MAX_PENDING} events arrive before
     *        {@link #activate}: the reader cannot follow and should end
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
                closed = true;
                pending = null;
                overflow.run();
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
        }
        sink.accept(event, frame);
    }

    /**
     * Ends the pending phase: the reader has everything up to {@code offset} (null: an empty document);
     * the events held meanwhile that are newer go to the sink now, then every later one as it comes.
     */
    public synchronized void activate(String offset) {
        if (closed || pending == null) {
            return;
        }
        seen = offset;
        List<DocEvent> held = pending;
        pending = null;
        held.forEach(event -> pass(event, new Frame(event.frame())));
    }

    /** No more events reach the sink (the reader went away). */
    public synchronized void close() {
        closed = true;
        pending = null;
    }
}
