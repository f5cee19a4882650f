package dev.copresence.engine;

import java.util.List;

/**
 * The durable events after an offset, and the offset of the last event of the log. {@code resumed} is
 * false when the log no longer holds (or never issued) that offset: then {@code frames} is empty and
 * the client must rebuild from a snapshot.
 */
public record Replay(boolean resumed, List<String> frames, String offset) {

    public static Replay notResumable(String offset) {
        return new Replay(false, List.of(), offset);
    }
}
