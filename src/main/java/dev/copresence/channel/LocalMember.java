package dev.copresence.channel;

import java.util.ArrayList;
import java.util.List;

import dev.copresence.engine.DocEvent;
import dev.copresence.engine.Offsets;
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
    private String joinedOffset;
    private List<DocEvent> pending = new ArrayList<>();
    long typingGeneration;

    LocalMember(Session session, String doc, Member member) {
        this.session = session;
        this.doc = doc;
        this.member = member;
    }

    String id() {
        return member.id();
    }

    /** True once {@code joined} was sent (the registry has the member). */
    synchronized boolean active() {
        return pending == null;
    }

    synchronized void deliver(DocEvent event, Frame frame, Object conflationKey) {
        if (pending != null) {
            if (pending.size() >= MAX_PENDING) {
                session.close(1013, "slow consumer: too many events during join");
                return;
            }
            pending.add(event);
            return;
        }
        send(event, frame, conflationKey);
    }

    private void send(DocEvent event, Frame frame, Object conflationKey) {
        switch (event.kind()) {
            case DURABLE_TO_OTHERS:
                if (id().equals(event.origin())) {
                    return;
                }
                // fall through
            case DURABLE_TO_ALL:
                if (Offsets.compare(event.offset(), joinedOffset) > 0) {
                    session.sendFrame(frame, null);
                }
                return;
            case UPDATE:
            case TYPING:
                if (!id().equals(event.origin())) {
                    session.sendFrame(frame, conflationKey);
                }
                return;
            case SIGNAL:
                if (id().equals(event.target())) {
                    session.sendFrame(frame, null);
                }
                return;
            default:
                throw new IllegalStateException(event.kind().name());
        }
    }

    /**
     * Ends the pending phase: sends the replayed frames, then {@code joined}, then what arrived
     * meanwhile and is newer than the join.
     */
    synchronized void activate(String offset, List<String> replayed, String joinedFrame) {
        joinedOffset = offset;
        session.out().offerBacklog(replayed);
        session.out().offer(joinedFrame);
        List<DocEvent> held = pending;
        pending = null;
        for (DocEvent event : held) {
            send(event, new Frame(event.frame()), DocumentHub.conflationKey(doc, event));
        }
    }
}
