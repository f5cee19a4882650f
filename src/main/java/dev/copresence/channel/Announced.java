package dev.copresence.channel;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import dev.copresence.engine.DocEvent;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.Member;

/**
 * What one document's hub last passed on of each member: enough to tell, after a gap, which updates
 * and typing changes the gap lost. Those are in no log, so a catch-up cannot read them; left alone,
 * readers would keep a member's old state, or see it typing, until its next change.
 *
 * <p>A change is recorded and passed on holding this object's lock (the hub's {@code deliver} and
 * {@link #missed} both), so that a change read from the registry can never be passed on after a newer
 * one that came live (nor a member's update after its leave). At most {@link #MAX_ENTRIES} members are
 * held (a document holds at most {@code limits.members-per-doc}, 10,000 by default; entries of members
 * gone are dropped at their leave or at the next gap): past it the hub forgets them all, and after a
 * gap passes on nothing of the members it forgot.
 */
final class Announced {
    static final int MAX_ENTRIES = 20_000;
    /** How every presence event's frame starts (Encoder, reap.lua): a member's join or leave. */
    private static final String PRESENCE_START = "{\"type\":\"presence\"";
    private static final String EVENT_FIELD = ",\"event\":\"";
    private static final String MEMBER_FIELD = ",\"member\":";
    private static final String TYPING_FIELD = "\"typing\":";
    /** What a noted change was: prefixed to the member id. */
    private static final char UPDATE = 'u';
    private static final char TYPING = 't';

    /** Per member, a hash of its member object as last passed on (or shown to a reader as it opened). */
    private final Map<String, Integer> objects = new ConcurrentHashMap<>();
    /** Members whose typing flag was last passed on as true. */
    private final Set<String> typing = ConcurrentHashMap.newKeySet();
    /** The registry reads under way ({@link #noteChanges}), each with the members changed since it began. */
    private final List<Noting> noting = new CopyOnWriteArrayList<>();
    /**
     * Whether a reader here was shown the members, or a read for that is under way ({@link #claimFirstRead}):
     * until then the hub knows only the members it passed on.
     */
    private final AtomicBoolean membersRead = new AtomicBoolean();

    /**
     * One read's noting: the changes since it began, as {@code kind + member id}. Told apart from
     * another read's by identity (two that noted nothing hold equal sets); ending it twice is harmless.
     */
    static final class Noting {
        /** For a read of a document no one here follows: nothing to note. */
        static final Noting NONE = new Noting();
        private final Set<String> changed = ConcurrentHashMap.newKeySet();

        boolean changed(char kind, String member) {
            return changed.contains(kind + member);
        }
    }

    /** An event passed on: an update, a typing change, or a durable one. Called holding this object's lock, with the passing on. */
    void passedOn(DocEvent event) {
        if (event.kind().durable()) {
            passedOnDurable(event);
            return;
        }
        String member = event.origin();
        if (event.kind() == DocEvent.Kind.TYPING) {
            if (CommandHandler.typingOn(event.frame())) {
                add(typing, member);
            } else {
                typing.remove(member);
            }
        } else if (event.kind() == DocEvent.Kind.UPDATE) { // its member object is its last field
            put(member, memberHash(event.frame(), event.frame().length() - 1));
        }
        noted(event.kind() == DocEvent.Kind.TYPING ? TYPING : UPDATE, member);
    }

    /** A durable event passed on: a member's join or leave is one. Called holding this object's lock, with the passing on. */
    void passedOnDurable(DocEvent event) {
        String frame = event.frame();
        String member = event.origin();
        if (member == null || !frame.startsWith(PRESENCE_START)) {
            return;
        }
        if (frame.startsWith("join", frame.indexOf(EVENT_FIELD) + EVENT_FIELD.length())) {
            int end = frame.lastIndexOf(",\"offset\":");
            put(member, memberHash(frame, end));
            // a join re-announced after Redis lost the member carries its flag; the member object's own
            // typing field is its last but joinedAt, after its state
            if (frame.startsWith("true", frame.lastIndexOf(TYPING_FIELD, end) + TYPING_FIELD.length())) {
                add(typing, member);
            } else {
                typing.remove(member);
            }
        } else {
            objects.remove(member);
            typing.remove(member);
        }
        noted(UPDATE, member);
        noted(TYPING, member);
    }

    /**
     * The members a reader was shown as it opened (a {@code joined}, an event stream's {@code members}),
     * read after {@link #noteChanges} gave {@code changed}: those this hub has not passed on (they joined
     * before its first reader) are known from there; not one that changed since (its leave, say). One
     * lookup per member, and one encoding per member new to the hub. The caller ends the read's noting.
     */
    void shown(String doc, List<Member> members, Noting read) {
        membersRead.set(true);
        for (Member member : members) {
            if (!objects.containsKey(member.id()) && objects.size() < MAX_ENTRIES) {
                synchronized (this) { // with the hub's presence events: a leave after this check cannot come before the put
                    if (!read.changed(UPDATE, member.id())) {
                        objects.computeIfAbsent(member.id(), id -> {
                            if (member.typing()) {
                                typing.add(id);
                            }
                            return hashOf(doc, member);
                        });
                    }
                }
            }
        }
    }

    /**
     * True for one caller while no reader here was shown the members (a stream that resumed opens
     * without them): that caller reads them for {@link #shown}, and calls {@link #firstReadFailed} if it
     * cannot.
     */
    boolean claimFirstRead() {
        return membersRead.compareAndSet(false, true);
    }

    void firstReadFailed() {
        membersRead.set(false);
    }

    /** Starts noting the members changed from now on; the token for {@link #missed}, {@link #shown} or {@link #stopNoting}. */
    Noting noteChanges() {
        Noting read = new Noting();
        noting.add(read);
        return read;
    }

    /** A read's noting ends (the registry could not be read, or was read and used). */
    void stopNoting(Noting read) {
        noting.removeIf(n -> n == read);
    }

    /**
     * Hands {@code passOn} what readers may have missed of the members as the registry held them when
     * read ({@code current}), after {@link #noteChanges} gave {@code changed}: an update for each member
     * whose object (its typing flag aside) differs from the last one passed on or shown, and a typing
     * change for each flag that differs; nothing for a member changed since (newer than what was read)
     * nor for one never passed on nor shown here (its join is still on its way, or the hub forgot). The
     * caller ends the read's noting.
     * Objects are told apart by a hash: a collision would keep back one update, at odds of one in four
     * billion.
     */
    void missed(String doc, List<Member> current, Noting read, Consumer<DocEvent> passOn) {
        Set<String> present = new HashSet<>();
        for (Member member : current) {
            present.add(member.id());
            synchronized (this) {
                Integer last = objects.get(member.id());
                if (last == null) {
                    continue;
                }
                String frame = updateFrame(doc, member);
                if (!read.changed(UPDATE, member.id()) && memberHash(frame, frame.length() - 1) != last
                        && hashOf(doc, member.withTyping(!member.typing())) != last) { // a typing change sends no update
                    DocEvent update = new DocEvent(DocEvent.Kind.UPDATE, null, member.id(), null, frame);
                    passedOn(update);
                    passOn.accept(update);
                }
                if (!read.changed(TYPING, member.id()) && member.typing() != typing.contains(member.id())) {
                    DocEvent change = new DocEvent(DocEvent.Kind.TYPING, null, member.id(), null, CommandHandler.typingFrame(doc, member));
                    passedOn(change);
                    passOn.accept(change);
                }
            }
        }
        // those gone from the registry, unless they changed while it was read (joined meanwhile)
        synchronized (this) {
            objects.keySet().removeIf(id -> !present.contains(id) && !read.changed(UPDATE, id));
            typing.removeIf(id -> !present.contains(id) && !read.changed(TYPING, id));
        }
    }

    /** Notes a change of the member's object ({@link #UPDATE}) or typing flag ({@link #TYPING}) in every read under way. */
    private void noted(char kind, String member) {
        for (Noting read : noting) {
            read.changed.add(kind + member);
        }
    }

    private void put(String member, int hash) {
        if (objects.size() >= MAX_ENTRIES && !objects.containsKey(member)) {
            objects.clear(); // a hostile churn of members, or a document past the limit: forget, pass on all after a gap
            typing.clear();
        }
        objects.put(member, hash);
    }

    private void add(Set<String> set, String member) {
        if (set.size() < MAX_ENTRIES) {
            set.add(member);
        }
    }

    /** An update's frame for the member, lone surrogates escaped as the bus carries them. */
    private static String updateFrame(String doc, Member member) {
        return Codec.escapeLoneSurrogates(CommandHandler.updateFrame(doc, member));
    }

    /** The hash of a member's object as an update passes it on. */
    private static int hashOf(String doc, Member member) {
        String frame = updateFrame(doc, member);
        return memberHash(frame, frame.length() - 1);
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
