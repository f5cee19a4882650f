package dev.copresence.channel;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.smallrye.mutiny.Uni;

import dev.copresence.engine.DocEvent;
import dev.copresence.engine.Offsets;
import dev.copresence.flow.Frame;

/**
 * The members of one document held by this node. An event is encoded once, upstream, and to UTF-8
 * once, here; the hub hands the same frame to each local member's queue.
 */
final class DocumentHub {
    /**
     * Members from which an event's frame gets one off-heap copy for all their sockets (Frame.shared):
     * below it, making the copy costs about what the sockets' own copies would.
     */
    private static final int SHARED_FROM = 4;

    final String doc;
    final Map<String, LocalMember> members = new ConcurrentHashMap<>();
    /** Read-only observers (SSE, long polls): every event but signals. */
    final Set<Observer> observers = ConcurrentHashMap.newKeySet();
    private volatile Uni<Void> subscribed;
    /** The newest durable event delivered: older or repeated ones (a catch-up overlapping pub/sub) are dropped. */
    private String lastOffset;

    DocumentHub(String doc) {
        this.doc = doc;
    }

    void subscribed(Uni<Void> ready) {
        this.subscribed = ready;
    }

    Uni<Void> subscribed() {
        return subscribed;
    }

    void deliver(DocEvent event) {
        if (event.kind() == DocEvent.Kind.SIGNAL) {
            LocalMember target = members.get(event.target());
            if (target != null) {
                target.deliver(event, new Frame(event.frame()), null);
            }
            return;
        }
        Object key = conflationKey(doc, event);
        Frame frame = new Frame(event.frame());
        if (members.size() >= SHARED_FROM) {
            frame.shared();
        }
        if (!event.kind().durable()) {
            for (LocalMember member : members.values()) {
                member.deliver(event, frame, key);
            }
            observers.forEach(o -> o.deliver(event, frame));
            return;
        }
        synchronized (this) {
            if (lastOffset != null && Offsets.compare(event.offset(), lastOffset) <= 0) {
                return;
            }
            lastOffset = event.offset();
            for (LocalMember member : members.values()) {
                member.deliver(event, frame, key);
            }
            observers.forEach(o -> o.deliver(event, frame));
        }
    }

    /** The hub stays, and its document subscribed, while anyone local follows it. */
    boolean unused() {
        return members.isEmpty() && observers.isEmpty();
    }

    synchronized String lastOffset() {
        return lastOffset;
    }

    /** Ephemeral events of one member and kind replace each other in a slow reader's queue. */
    static Object conflationKey(String doc, DocEvent event) {
        return event.kind() == DocEvent.Kind.UPDATE || event.kind() == DocEvent.Kind.TYPING
                ? new ConflationKey(doc, event.origin(), event.kind())
                : null;
    }

    private record ConflationKey(String doc, String member, DocEvent.Kind kind) {
    }
}
