package dev.copresence.engine;

import io.smallrye.mutiny.Uni;

/** Delivery of document events and status changes to the nodes that need them. */
public interface Bus {

    /** Sets who hears this node's subscriptions; called once, before any subscribe. */
    void listen(EngineListener listener);

    /** Starts delivering the document's events to this node; completes once no later event can be missed. */
    Uni<Void> subscribe(String doc);

    /** Stops delivering them (when the node has no member of the document left). */
    void unsubscribe(String doc);

    /** Delivers a signal frame to member {@code to} wherever it is connected; false if no such member. */
    Uni<Boolean> signal(String doc, String to, String frame);

    /**
     * Whether events can be missed (a connection that drops, then a gap): the hubs then keep what they
     * passed on of each member, to make up after a gap for the changes no log holds. Not in memory.
     */
    default boolean hasGaps() {
        return true;
    }

    /** Whether the shared backend answers (always true in memory). */
    Uni<Boolean> healthy();

    /** Stops delivering and releases the connection (at shutdown). */
    default void close() {
    }
}
