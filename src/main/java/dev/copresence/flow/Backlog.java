package dev.copresence.flow;

import java.util.Iterator;
import java.util.List;

/**
 * What a reader is handed all at once about one document: a replayed history and its {@code joined},
 * or an event stream's opening. As large as the document's history or members, which may be more
 * than the send buffer holds, so an {@link OutboundQueue} writes it at the socket's pace instead of
 * counting it as too much. Not thread-safe: the queue reads it under its lock.
 */
public final class Backlog {
    private final Object key;
    private final Iterator<String> texts;
    private final Iterator<Frame> frames;
    private String last;
    /** Characters not yet taken. */
    private long remaining;
    /** Counted against the send buffer like any frame: another backlog of its document waits. */
    boolean counted;

    private Backlog(Object key, Iterator<String> texts, Iterator<Frame> frames, String last, long chars) {
        this.key = key;
        this.texts = texts;
        this.frames = frames;
        this.last = last;
        this.remaining = chars;
    }

    /**
     * Replayed frames, then {@code last} (a {@code joined}, or null), each encoded as the socket takes
     * it: a frame keeps its text and its bytes, so one encoded while it waits would hold a document's
     * members twice (a {@code joined} of megabytes is encoded under the queue's lock instead, which
     * holds up only this connection's offers meanwhile).
     *
     * @param key the document: one backlog of a document waits uncounted at a time
     */
    public static Backlog of(Object key, List<String> replayed, String last) {
        long chars = last == null ? 0 : last.length();
        for (String text : replayed) {
            chars += text.length();
        }
        return new Backlog(key, replayed.iterator(), null, last, chars);
    }

    /** Frames already in their transport's form (an event stream's). */
    public static Backlog ofFrames(Object key, List<Frame> frames) {
        long chars = 0;
        for (Frame frame : frames) {
            chars += frame.length();
        }
        return new Backlog(key, null, frames.iterator(), null, chars);
    }

    Object key() {
        return key;
    }

    long remaining() {
        return remaining;
    }

    boolean hasNext() {
        return texts != null && texts.hasNext() || frames != null && frames.hasNext() || last != null;
    }

    Frame next() {
        Frame frame;
        if (texts != null && texts.hasNext()) {
            frame = new Frame(texts.next());
        } else if (frames != null && frames.hasNext()) {
            frame = frames.next();
        } else {
            frame = new Frame(last);
            last = null;
        }
        remaining -= frame.length();
        return frame;
    }
}
