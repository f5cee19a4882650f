package dev.copresence.channel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.copresence.engine.DocEvent;
import dev.copresence.engine.Offsets;
import dev.copresence.flow.Backlog;
import dev.copresence.flow.Frame;
import dev.copresence.protocol.Member;

/**
 * A member held by this node: its connection and current record. Between the start of its join and
 * the {@code joined} answer it is pending: events of the document that arrive meanwhile are held and,
 * once the join's offset is known, those after it are sent after {@code joined}; the others are
 * already in its snapshot.
 * <p>
 * "After it" is decided by the member's own join event, as the bus brings it: Redis publishes every
 * event in the order it runs them, so whatever arrives before that event ran before the join, and the
 * snapshot holds it. Durable events tell this by their offsets; an update or typing event does not
 * have one, and one sent after {@code joined} could bring back a member whose leave the snapshot
 * already counts (a ghost). So until its own join comes through, the member drops them.
 */
final class LocalMember {
    /** Events held while a join is in flight, at most; past it the client is too slow to follow. */
    static final int MAX_PENDING = 4096;
    /** How long after {@code joined} the member waits for its own join event at most (a bus gap delays it). */
    static final long OWN_JOIN_WAIT_NANOS = TimeUnit.SECONDS.toNanos(2);

    final Session session;
    final String doc;
    volatile Member member;
    /** The member's id (it never changes) and its hash: most events are not this member's, which the hash tells without reading either string. */
    private final String id;
    private final int idHash;
    private Offsets.Position joinedAt;
    /**
     * Before {@code joined} is sent: the list of events held meanwhile. After it, until the member's
     * own join event has come through the bus: when to stop waiting for it ({@link AwaitingOwnJoin}).
     * Then null. Volatile so that a delivery to an active member (every one but those of a join under
     * way) takes no lock: it is set to null last, after the held events are queued, so nothing newer
     * can overtake them.
     */
    private volatile Object pending = new ArrayList<DocEvent>();
    long typingGeneration;

    private record AwaitingOwnJoin(long deadlineNanos) {
    }

    LocalMember(Session session, String doc, Member member) {
        this.session = session;
        this.doc = doc;
        this.member = member;
        this.id = member.id();
        this.idHash = id.hashCode();
    }

    String id() {
        return id;
    }

    /** True when {@code memberId} is this member's id; asked for every member an event goes to. */
    private boolean is(String memberId) {
        return memberId != null && memberId.hashCode() == idHash && id.equals(memberId);
    }

    /** The offset of the member's join, once {@code joined} was sent: it has every durable event up to it. Else null. */
    synchronized String joinOffset() {
        return active() && joinedAt != null ? joinedAt.offset() : null;
    }

    /** True once {@code joined} was sent (the registry has the member). */
    boolean active() {
        return !(pending instanceof List);
    }

    void deliver(DocEvent event, Frame frame, Object conflationKey) {
        if (pending != null && !admit(event)) {
            return;
        }
        send(event, frame, conflationKey);
    }

    /**
     * False when the event is held (or the member is closed for holding too many) until {@code joined}
     * is sent, or is older than the member's join and so already in its snapshot.
     */
    private synchronized boolean admit(DocEvent event) {
        Object state = pending;
        if (state == null) {
            return true;
        }
        if (state instanceof List<?>) {
            @SuppressWarnings("unchecked")
            List<DocEvent> held = (List<DocEvent>) state;
            if (held.size() >= MAX_PENDING) {
                session.close(1013, "slow consumer: too many events during join");
            } else {
                held.add(event);
            }
            return false;
        }
        if (event.kind().durable()) {
            if (joinedAt.reachedBy(event.offset())) {
                pending = null; // the own join, or something after it: caught up
            }
            return true; // send() drops those the snapshot holds, by offset
        }
        if (event.kind() == DocEvent.Kind.SIGNAL) {
            return true; // a signal names this member, which only exists from its join on
        }
        if (System.nanoTime() - ((AwaitingOwnJoin) state).deadlineNanos() >= 0) {
            pending = null;
            return true;
        }
        return false;
    }

    private void send(DocEvent event, Frame frame, Object conflationKey) {
        switch (event.kind()) {
            case DURABLE_TO_OTHERS:
                if (is(event.origin())) {
                    return;
                }
                // fall through
            case DURABLE_TO_ALL:
                if (joinedAt == null || joinedAt.before(event.offset())) {
                    session.sendFrame(frame, null);
                }
                return;
            case UPDATE:
            case TYPING:
                if (!is(event.origin())) {
                    session.sendFrame(frame, conflationKey);
                }
                return;
            case SIGNAL:
                if (is(event.target())) {
                    session.sendFrame(frame, null);
                }
                return;
            default:
                throw new IllegalStateException(event.kind().name());
        }
    }

    /**
     * Ends the pending phase: sends the replayed frames, then {@code joined}, then what arrived
     * meanwhile after the member's own join event. The replay and {@code joined} (the document's
     * members) go as one backlog: either may be longer than the send buffer.
     */
    synchronized void activate(String offset, List<String> replayed, String joinedFrame) {
        joinedAt = offset == null ? null : Offsets.Position.of(offset); // null: nothing before the join
        session.out().offerBacklog(Backlog.of(doc, replayed, joinedFrame));
        @SuppressWarnings("unchecked")
        List<DocEvent> held = (List<DocEvent>) pending;
        boolean caughtUp = joinedAt == null;
        for (DocEvent event : held) {
            if (!caughtUp && event.kind().durable() && joinedAt.reachedBy(event.offset())) {
                caughtUp = true;
            }
            if (caughtUp || event.kind().durable() || event.kind() == DocEvent.Kind.SIGNAL) {
                send(event, new Frame(event.frame()), DocumentHub.conflationKey(doc, event));
            }
        }
        pending = caughtUp ? null : new AwaitingOwnJoin(System.nanoTime() + OWN_JOIN_WAIT_NANOS);
    }
}
