package dev.copresence.channel;

import java.util.ArrayList;
import java.util.List;

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
 */
final class LocalMember {
    /** Events held while a join is in flight, at most; past it the client is too slow to follow. */
    static final int MAX_PENDING = 4096;

    final Session session;
    final String doc;
    volatile Member member;
    /** The member's id (it never changes) and its hash: most events are not this member's, which the hash tells without reading either string. */
    private final String id;
    private final int idHash;
    private Offsets.Position joinedAt;
    /**
     * Events that arrive before {@code joined} is sent; null once it is. Volatile so that a delivery to
     * an active member (every one but those of a join under way) takes no lock: it is set to null last,
     * after the held events are queued, so nothing newer can overtake them.
     */
    private volatile List<DocEvent> pending = new ArrayList<>();
    long typingGeneration;

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

    /** True once {@code joined} was sent (the registry has the member). */
    boolean active() {
        return pending == null;
    }

    void deliver(DocEvent event, Frame frame, Object conflationKey) {
        if (pending != null && hold(event)) {
            return;
        }
        send(event, frame, conflationKey);
    }

    /** True when the event is held (or the member is closed for holding too many) until {@code joined} is sent. */
    private synchronized boolean hold(DocEvent event) {
        List<DocEvent> held = pending;
        if (held == null) {
            return false;
        }
        if (held.size() >= MAX_PENDING) {
            session.close(1013, "slow consumer: too many events during join");
        } else {
            held.add(event);
        }
        return true;
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
     * meanwhile and is newer than the join. The replay and {@code joined} (the document's members) go
     * as one backlog: either may be longer than the send buffer.
     */
    synchronized void activate(String offset, List<String> replayed, String joinedFrame) {
        joinedAt = offset == null ? null : Offsets.Position.of(offset); // null: nothing before the join
        session.out().offerBacklog(Backlog.of(doc, replayed, joinedFrame));
        for (DocEvent event : pending) {
            send(event, new Frame(event.frame()), DocumentHub.conflationKey(doc, event));
        }
        pending = null;
    }
}
