package dev.copresence.engine;

/**
 * What a node hears from its engine. {@link #onDocEvent} is called for every event of every document
 * the node subscribed to, durable events of one document in offset order. Calls may come from any
 * thread and must not block.
 */
public interface EngineListener {

    void onDocEvent(String doc, DocEvent event);

    void onStatus(UserStatus status);

    /**
     * The engine stopped hearing other nodes (its bus connection ended): events published from now
     * until the {@link #onResync} that follows may never arrive live.
     */
    default void onGap() {
    }

    /**
     * The engine lost its connection to the shared registry, or found that the registry lost this
     * node's data, and is back: events may have been missed and members must be re-asserted.
     */
    default void onResync() {
    }
}
