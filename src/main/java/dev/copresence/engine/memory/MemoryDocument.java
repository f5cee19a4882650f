package dev.copresence.engine.memory;

import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import dev.copresence.protocol.Codec;
import dev.copresence.protocol.Member;

/**
 * One document of {@link MemoryEngine}: its members and its history. Every field is read and changed
 * holding this object's lock, which the engine takes (see there why one lock for all three parts).
 */
final class MemoryDocument {
    final Map<String, Member> members = new LinkedHashMap<>();
    final ArrayDeque<Entry> log = new ArrayDeque<>();
    /**
     * Everything after {@code base} up to {@code seq} is held: base moves up as history is trimmed.
     * A new document holds every event since the last one forgotten: an offset the node gave out
     * before the document's first event (the snapshot of an empty one) resumes from there.
     */
    long base;
    long seq;
    long touchedAt;
    /** The characters its log holds (see {@link #charsOf}). */
    private long chars;
    /** The characters all documents' logs hold. */
    private final AtomicLong historyChars;

    MemoryDocument(long base, long seq, long touchedAt, AtomicLong historyChars) {
        this.base = base;
        this.seq = seq;
        this.touchedAt = touchedAt;
        this.historyChars = historyChars;
    }

    /** Adds an event to the history, the oldest going past {@code historySize}. */
    void add(Entry entry, int historySize) {
        log.addLast(entry);
        long size = charsOf(entry);
        chars += size;
        historyChars.addAndGet(size);
        while (log.size() > historySize) {
            dropOldest();
        }
    }

    /** Drops the log's oldest event. */
    void dropOldest() {
        Entry oldest = log.removeFirst();
        base = oldest.seq();
        long size = charsOf(oldest);
        chars -= size;
        historyChars.addAndGet(-size);
    }

    /** Drops the whole history, as the document is forgotten: an eviction that found it before it went finds nothing left. */
    void forget() {
        historyChars.addAndGet(-chars);
        log.clear();
        chars = 0;
    }

    /** What an event costs the histories' memory: its frame, or a join's state and the rest of its member. */
    private static long charsOf(Entry entry) {
        return entry instanceof Logged logged ? logged.frame().length() : 200 + ((Joined) entry).member().state().utf8Length();
    }

    /** A durable event in a document's history. */
    sealed interface Entry {
        long seq();

        /** Its frame, as first sent. */
        String frame(String doc, String offset);
    }

    record Logged(long seq, String frame) implements Entry {
        @Override
        public String frame(String doc, String offset) {
            return frame;
        }
    }

    /**
     * A member's join, kept as the member record it announced rather than as its frame, and encoded
     * again for a resume: the record is the one the document's member list holds until the member's
     * first update or typing change (records are immutable), so an idle member's join costs this
     * entry instead of a second copy of the member as JSON text (about 0.27 KiB).
     */
    record Joined(long seq, Member member) implements Entry {
        @Override
        public String frame(String doc, String offset) {
            return Codec.withOffset(Codec.joinPrefix(doc, member), offset);
        }
    }
}
