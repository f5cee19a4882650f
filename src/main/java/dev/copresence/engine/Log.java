package dev.copresence.engine;

import java.util.List;

import io.smallrye.mutiny.Uni;

/** The durable events of each document, with offsets; trimmed to the history size. */
public interface Log {

    /**
     * Appends a {@code broadcast} and publishes it; the item is its offset.
     *
     * @param origin the sending member, or null for the server
     * @param echo whether the origin gets it too
     */
    Uni<String> broadcast(String doc, String origin, boolean echo, String prefix);

    /** The frames after {@code since} and before {@code until} (null: up to the end), both exclusive. */
    Uni<Replay> readAfter(String doc, String since, String until);

    /**
     * The durable events after {@code offset} with their routing, for a node catching up after a gap.
     *
     * @param offset what the node's readers are known to have, or null when nothing is known: every
     *        event the log holds
     * @param all every event the log holds, though {@code offset} is known (readers still opening
     *        may need older ones)
     */
    Uni<Missed> eventsAfter(String doc, String offset, boolean all);

    /**
     * What a node missed after an offset.
     *
     * @param whole false when the log no longer holds every event after the offset (the history was
     *        trimmed past it): some are missed for good
     */
    record Missed(List<DocEvent> events, boolean whole) {
    }
}
