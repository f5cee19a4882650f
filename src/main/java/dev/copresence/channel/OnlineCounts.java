package dev.copresence.channel;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

import dev.copresence.engine.Engine;
import dev.copresence.engine.Registry;

/**
 * This node's open connections per user, and their writes to the registry (which decide who is
 * online). One user's writes run one after another. A write that fails (Redis away, a timeout) is
 * not lost: the user is written again at the next renewal, as this node's absolute count, which is
 * right whether or not the failed write took effect. Without that a user whose last {@code
 * disconnected} failed stayed online for as long as the node lived.
 */
@Singleton
public final class OnlineCounts {
    private static final Logger LOG = Logger.getLogger(OnlineCounts.class);

    private final Registry registry;
    private final Map<String, Integer> here = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<Void>> changes = new HashMap<>();
    /** Users whose last write failed: their count in the registry may be wrong either way. */
    private final Set<String> unsynced = ConcurrentHashMap.newKeySet();

    public OnlineCounts(Engine engine) {
        this.registry = engine.registry();
    }

    /** One more connection of the user here; never fails (a failed write is retried later). */
    Uni<Void> opened(String user) {
        return write(user, () -> {
            here.merge(user, 1, Integer::sum);
            return () -> registry.connected(user);
        });
    }

    /** One connection of the user fewer here; never fails (a failed write is retried later). */
    Uni<Void> closed(String user) {
        return write(user, () -> {
            here.computeIfPresent(user, (u, n) -> n > 1 ? n - 1 : null);
            return () -> registry.disconnected(user);
        });
    }

    /** Writes again, as this node's count, each user whose last write failed. */
    Uni<Void> retryFailed() {
        return rewrite(List.copyOf(unsynced), false);
    }

    /** After Redis may have lost its data: every user's count here (and those whose write failed). */
    Uni<Void> rewriteAll() {
        List<String> failed = List.copyOf(unsynced);
        Set<String> others = new HashSet<>(here.keySet());
        failed.forEach(others::remove);
        // a user whose write failed is announced online even if Redis never saw it (the write never told it)
        return rewrite(failed, false).chain(() -> rewrite(List.copyOf(others), true));
    }

    private Uni<Void> rewrite(List<String> users, boolean restart) {
        return Multi.createFrom().iterable(users)
                .onItem().transformToUni(user -> {
                    unsynced.remove(user);
                    return write(user, () -> {
                        int count = here.getOrDefault(user, 0);
                        return () -> registry.reassertConnections(Map.of(user, count), restart);
                    });
                })
                .merge(8)
                .collect().last().replaceWithVoid();
    }

    /**
     * Runs one user's writes of this node one after another: a connection that opens just before
     * another of the same user closes must be counted first, or watchers would see the user flicker
     * offline. {@code prepare} changes or reads this node's count, and gives the write, at the moment
     * the write takes its place in line, so that an absolute count written is the one every write
     * before it left and every write after it starts from.
     */
    private Uni<Void> write(String user, Supplier<Supplier<Uni<Void>>> prepare) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture<Void> previous;
        Supplier<Uni<Void>> change;
        synchronized (changes) {
            change = prepare.get();
            previous = changes.getOrDefault(user, CompletableFuture.completedFuture(null));
            changes.put(user, done);
        }
        return Uni.createFrom().completionStage(previous)
                .chain(ignored -> change.get())
                .eventually(() -> {
                    done.complete(null);
                    synchronized (changes) {
                        changes.remove(user, done);
                    }
                })
                .onFailure().invoke(t -> {
                    LOG.warnf("online status of a user not recorded (%s); written again at the next renewal", t.getMessage());
                    unsynced.add(user);
                })
                .onFailure().recoverWithNull();
    }
}
