package dev.copresence.channel;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import jakarta.inject.Singleton;

import io.smallrye.mutiny.Uni;

/**
 * Runs each member's record changes and their writes to the registry one after another: the
 * member's own messages, its typing timer, and the writes tried again ({@link UnconfirmedChanges}).
 * Each goes to Redis on whatever pooled connection is free, so two at once could land in either
 * order, an older record over a newer one; and a write tried again must not carry a change whose
 * own write has not answered yet (it may yet be refused and put back).
 */
@Singleton
public final class MemberWrites {
    private static final CompletableFuture<Void> NONE = CompletableFuture.completedFuture(null);

    /** Each member's last write in line; gone once it has ended with nothing behind it. */
    private final Map<LocalMember, CompletableFuture<Void>> last = new HashMap<>();

    /**
     * {@code change} (which changes the record and writes it) runs once every change of the member
     * before it has ended; it takes its place in line when subscribed.
     */
    <T> Uni<T> inTurn(LocalMember member, Supplier<Uni<T>> change) {
        return Uni.createFrom().deferred(() -> {
            CompletableFuture<Void> done = new CompletableFuture<>();
            CompletableFuture<Void> previous;
            synchronized (last) {
                previous = last.getOrDefault(member, NONE);
                last.put(member, done);
            }
            Uni<Void> turn = previous.isDone() ? Uni.createFrom().voidItem() : Uni.createFrom().completionStage(previous);
            return turn.chain(ignored -> change.get()).eventually(() -> {
                synchronized (last) {
                    last.remove(member, done);
                }
                done.complete(null);
            });
        });
    }
}
