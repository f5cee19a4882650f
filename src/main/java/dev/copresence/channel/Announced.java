package dev.copresence.channel;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import dev.copresence.engine.DocEvent;
import dev.copresence.protocol.Member;

/**
 * What one document's hub last passed on of each member: enough to tell, after a gap, which updates
 * and typing changes the gap lost. Those are in no log, so a catch-up cannot read them; left alone,
 * readers would keep a member's old state, or see it typing, until its next change. One entry per
 * member of the document at most (its presence events add and remove it).
 */
final class Announced {
    /** How every presence event's frame starts (Encoder, reap.lua): a member's join or leave. */
    private static final String PRESENCE_START = "{\"type\":\"presence\"";
    private static final String EVENT_FIELD = ",\"event\":\"";
    private static final String MEMBER_FIELD = ",\"member\":";

    /** Per member, a hash of its member object as last passed on: at its join or its last update. */
    private final Map<String, Integer> objects = new ConcurrentHashMap<>();
    /** Members whose typing flag was last passed on as true. */
    private final Set<String> typing = ConcurrentHashMap.newKeySet();
    /** While {@link #missed} reads the registry: the changes passed on meanwhile (newer than what it read). */
    private volatile Set<Object> changedSince;

    /** An update or typing change passed on, with its conflation key. */
    void passedOn(DocEvent event, Object key) {
        if (event.kind() == DocEvent.Kind.TYPING) {
            if (CommandHandler.typingOn(event.frame())) {
                typing.add(event.origin());
            } else {
                typing.remove(event.origin());
            }
        } else if (event.kind() == DocEvent.Kind.UPDATE) { // its member object is its last field
            objects.put(event.origin(), memberHash(event.frame(), event.frame().length() - 1));
        }
        Set<Object> changed = changedSince;
        if (changed != null) {
            changed.add(key);
        }
    }

    /** A durable event passed on: a member's join or leave is one. */
    void passedOnDurable(DocEvent event) {
        String frame = event.frame();
        if (event.origin() == null || !frame.startsWith(PRESENCE_START)) {
            return;
        }
        typing.remove(event.origin()); // joined or left: not typing
        if (frame.startsWith("join", frame.indexOf(EVENT_FIELD) + EVENT_FIELD.length())) {
            objects.put(event.origin(), memberHash(frame, frame.lastIndexOf(",\"offset\":")));
        } else {
            objects.remove(event.origin());
        }
    }

    /**
     * The members a joining reader got with its {@code joined}: those this hub has not passed on (they
     * joined before its first reader) are known from there. One lookup per member, and one encoding
     * per member new to the hub.
     */
    void joinedWith(String doc, List<Member> members) {
        for (Member member : members) {
            objects.computeIfAbsent(member.id(), id -> {
                if (member.typing()) {
                    typing.add(id);
                }
                String frame = CommandHandler.updateFrame(doc, member);
                return memberHash(frame, frame.length() - 1);
            });
        }
    }

    /** From now until {@link #missed}, changes passed on are noted: they are newer than what it reads. */
    void noteChanges() {
        changedSince = ConcurrentHashMap.newKeySet();
    }

    /** The registry could not be read: changes are no longer noted. */
    void stopNoting() {
        changedSince = null;
    }

    /**
     * Hands {@code passOn} what readers may have missed of the members as the registry holds them now:
     * an update for each member whose object (its typing flag aside) differs from the last one passed
     * on (or that a reader got with its {@code joined}), or that this hub never passed on, and a typing change for each flag that differs; nothing for a change passed on
     * since {@link #noteChanges}, which is newer. Objects are told apart by a hash: a collision would
     * keep back one update, at odds of one in four billion.
     */
    void missed(String doc, List<Member> current, Consumer<DocEvent> passOn) {
        Set<Object> changed = changedSince; // still noting: a change passed on while this runs is not overtaken
        Set<String> present = new HashSet<>();
        for (Member member : current) {
            present.add(member.id());
            String frame = CommandHandler.updateFrame(doc, member);
            DocEvent update = new DocEvent(DocEvent.Kind.UPDATE, null, member.id(), null, frame);
            if (!newer(changed, doc, update) && !passedOnAsIs(doc, member)) {
                passedOn(update, DocumentHub.conflationKey(doc, update));
                passOn.accept(update);
            }
            if (member.typing() != typing.contains(member.id())) {
                DocEvent change = new DocEvent(DocEvent.Kind.TYPING, null, member.id(), null, CommandHandler.typingFrame(doc, member));
                if (!newer(changed, doc, change)) {
                    passedOn(change, DocumentHub.conflationKey(doc, change));
                    passOn.accept(change);
                }
            }
        }
        typing.retainAll(present);
        objects.keySet().retainAll(present);
        changedSince = null;
    }

    private static boolean newer(Set<Object> changed, String doc, DocEvent event) {
        return changed != null && changed.contains(DocumentHub.conflationKey(doc, event));
    }

    /** Whether the member's object was last passed on as it is, its typing flag aside (a typing change sends no update). */
    private boolean passedOnAsIs(String doc, Member member) {
        Integer last = objects.get(member.id());
        if (last == null) {
            return false;
        }
        for (boolean flag : new boolean[] { false, true }) {
            String frame = CommandHandler.updateFrame(doc, member.withTyping(flag));
            if (memberHash(frame, frame.length() - 1) == last) {
                return true;
            }
        }
        return false;
    }

    /** Entries held: members with an object or a typing flag passed on. */
    int size() {
        return objects.size() + typing.size();
    }

    /** A hash of the member object of a presence frame: from its {@code member} field up to {@code end}. */
    static int memberHash(String frame, int end) {
        int h = 0;
        for (int i = frame.indexOf(MEMBER_FIELD) + MEMBER_FIELD.length(); i < end; i++) {
            h = 31 * h + frame.charAt(i);
        }
        return h;
    }
}
