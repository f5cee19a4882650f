package dev.copresence.channel;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

import io.smallrye.mutiny.Uni;

import dev.copresence.engine.DocEvent;
import dev.copresence.engine.Offsets;
import dev.copresence.flow.Frame;
import dev.copresence.protocol.Member;

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
    /**
     * Durable events held during a catch-up, at most: past it they are dropped and read from the log
     * again. Below the default history size (1,000), so that those dropped are still in the log.
     */
    static final int MAX_HELD = 512;
    /**
     * How a member's connection is closed when the node missed events of the document for good: 1013,
     * try again later, as for a slow consumer, whose client also resumes from its last offset.
     */
    static final int MISSED_EVENTS_CLOSE = 1013;
    static final String MISSED_EVENTS_REASON = "events missed: resume from your last offset";

    final String doc;
    final Map<String, LocalMember> members = new ConcurrentHashMap<>();
    /** Read-only observers (SSE, long polls): every event but signals. */
    final Set<Observer> observers = ConcurrentHashMap.newKeySet();
    private volatile Uni<Void> subscribed;
    /** The newest durable event delivered: older or repeated ones (a catch-up overlapping pub/sub) are dropped. */
    private String lastOffset;
    /** Durable events from the bus waiting for a catch-up to end (null when none is under way). */
    private List<DocEvent> held;
    /** More than {@link #MAX_HELD} arrived while held: those were dropped, to be read from the log again. */
    private boolean heldOverflowed;
    /**
     * What was last passed on of each member, to pass on after a gap what it lost; null on an engine
     * without gaps (in memory), where it would cost every joined member its entry for nothing.
     */
    private final Announced announced;

    DocumentHub(String doc) {
        this(doc, true);
    }

    DocumentHub(String doc, boolean gaps) {
        this.doc = doc;
        this.announced = gaps ? new Announced() : null;
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
        if (!event.kind().durable()) {
            passOnNoted(event, conflationKey(doc, event));
            return;
        }
        synchronized (this) {
            if (held == null) {
                fanOut(event);
            } else if (held.size() < MAX_HELD) {
                held.add(event);
            } else {
                // the catch-up reads these from the log again: it reads until it sees no overflow
                held.clear();
                heldOverflowed = true;
            }
        }
    }

    /**
     * An event to every follower, noted in {@link #announced} with its passing on, under one lock: a
     * change read from the registry is never passed on after a newer one that came live, nor a
     * member's update after its leave.
     */
    private void passOnNoted(DocEvent event, Object key) {
        if (announced == null) {
            passOn(event, key);
            return;
        }
        synchronized (announced) {
            announced.passedOn(event);
            passOn(event, key);
        }
    }

    /** An event to every follower; {@code key} its conflation key (null for a durable one). */
    private void passOn(DocEvent event, Object key) {
        Frame frame = frame(event);
        for (LocalMember member : members.values()) {
            member.deliver(event, frame, key);
        }
        observers.forEach(o -> o.deliver(event, frame));
    }

    /**
     * From now on, the members' changes passed on are noted, until the token it returns is handed to
     * {@link #passOnMissed}, {@link #shown} or {@link #stopNoting}: they are newer than what is read
     * meanwhile.
     */
    Announced.Noting noteChanges() {
        return announced == null ? Announced.Noting.NONE : announced.noteChanges();
    }

    /**
     * After a gap, the members' changes it may have lost (updates and typing changes are in no log a
     * catch-up reads), from the members as the registry held them when read ({@link Announced#missed}).
     */
    void passOnMissed(List<Member> current, Announced.Noting read) {
        if (announced != null) {
            announced.missed(doc, current, read, event -> passOn(event, conflationKey(doc, event)));
        }
    }

    /** The members a reader was shown as it opened, read after {@link #noteChanges}. */
    void shown(List<Member> current, Announced.Noting read) {
        if (announced != null) {
            announced.shown(doc, current, read);
        }
    }

    /** True once, for the caller that reads the members for {@link #shown} because no reader here was shown them yet. */
    boolean claimMembersRead() {
        return announced != null && announced.claimFirstRead();
    }

    void membersReadFailed() {
        if (announced != null) {
            announced.firstReadFailed();
        }
    }

    void stopNoting(Announced.Noting read) {
        if (announced != null) {
            announced.stopNoting(read);
        }
    }

    private Frame frame(DocEvent event) {
        Frame frame = new Frame(event.frame());
        if (members.size() >= SHARED_FROM) {
            frame.shared();
        }
        return frame;
    }

    /** A durable event to every follower, unless one as new was already delivered. Holds the hub's lock. */
    private void fanOut(DocEvent event) {
        if (lastOffset != null && Offsets.compare(event.offset(), lastOffset) <= 0) {
            return;
        }
        lastOffset = event.offset();
        passOnNoted(event, null);
    }

    /**
     * From now until {@link #release}, durable events from the bus wait: events may have been missed
     * (the bus lost its connection), and one that came live after them must not move
     * {@link #lastOffset} past them before the catch-up reads them from the log.
     */
    synchronized void hold() {
        if (held == null) {
            held = new ArrayList<>();
        }
    }

    /**
     * Ends a catch-up: the events read from the log, then those held meanwhile, in offset order (each
     * once). False when more arrived meanwhile than could be held: the hub keeps holding, and the
     * caller reads the log again from the new {@link #lastOffset}. When a newer gap began since the
     * read started ({@code noGapSince} false), the hub keeps holding for that gap's own catch-up.
     */
    synchronized boolean release(List<DocEvent> read, BooleanSupplier noGapSince) {
        read.forEach(this::fanOut);
        if (!noGapSince.getAsBoolean()) {
            return true;
        }
        if (heldOverflowed) {
            heldOverflowed = false;
            return false;
        }
        endHold();
        return true;
    }

    /**
     * The catch-up could not read the log: what was missed cannot be known, so the readers resume (see
     * {@link #lost}); what is held goes out, to readers who come after. False when a newer gap began
     * meanwhile: its own catch-up reads the log again.
     */
    boolean abandon(BooleanSupplier noGapSince) {
        if (!noGapSince.getAsBoolean()) {
            return false;
        }
        lost(); // before the held events go: they come after the hole
        synchronized (this) {
            if (noGapSince.getAsBoolean()) { // else a newer gap began meanwhile: its catch-up ends the holding
                heldOverflowed = false;
                endHold();
            }
        }
        return true;
    }

    /**
     * Events of the document were missed for good (the log was trimmed past them before a catch-up
     * could read them): a reader that went on would never learn it, so each is ended, and resumes as
     * after any close, from the last offset it got. Its resume says whether that is still possible;
     * when it is not, {@code resumed: false} tells it to rebuild from the members. Outside the hub's
     * lock: a close may complete a long poll's answer, and durable events wait while the hub holds.
     */
    void lost() {
        for (LocalMember member : members.values()) {
            member.session.close(MISSED_EVENTS_CLOSE, MISSED_EVENTS_REASON);
        }
        observers.forEach(Observer::cannotFollow);
    }

    private void endHold() {
        if (held != null) {
            List<DocEvent> waiting = held;
            held = null;
            waiting.forEach(this::fanOut);
        }
    }

    /** The hub stays, and its document subscribed, while anyone local follows it. */
    boolean unused() {
        return members.isEmpty() && observers.isEmpty();
    }

    /**
     * What a catch-up checks the log still holds, and where it reads from.
     *
     * @param offset what every active reader has: the last durable event passed on, or, before the hub
     *        passed any on (a quiet document, a member whose own join came during the gap), the oldest
     *        position an active reader opened at; null when none is known
     * @param all read the whole log all the same: a reader still opening may have opened before
     *        {@code offset} (it drops what its opening holds)
     */
    record CatchUpFrom(String offset, boolean all) {
    }

    synchronized CatchUpFrom catchUpFrom() {
        if (lastOffset != null) {
            // every reader attached before it was passed on has it; one opening since drops what it holds
            return new CatchUpFrom(lastOffset, false);
        }
        String oldest = null;
        boolean opening = false;
        for (LocalMember member : members.values()) {
            String at = member.joinOffset();
            opening |= at == null;
            oldest = older(oldest, at);
        }
        for (Observer observer : observers) {
            String at = observer.seen();
            opening |= at == null;
            oldest = older(oldest, at);
        }
        return new CatchUpFrom(oldest, opening);
    }

    private static String older(String a, String b) {
        return a == null ? b : b == null || Offsets.compare(a, b) <= 0 ? a : b;
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
