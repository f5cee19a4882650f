package dev.copresence.channel;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

import dev.copresence.engine.Engine;
import dev.copresence.protocol.Member;

/**
 * The node's periodic work: renewing its members (one engine call per document, whatever the number
 * of members), putting back what the registry lost, and the engine's heartbeat (leases, reaping).
 * After a gap in the bus it also catches up on the durable events it missed.
 */
@Singleton
public final class Upkeep {
    private static final Logger LOG = Logger.getLogger(Upkeep.class);

    private final Engine engine;
    private final Hubs hubs;
    private final OnlineCounts onlineCounts;
    private final StatusWatchers statusWatchers;
    private final UnrecordedLeaves unrecordedLeaves;
    private final UnconfirmedChanges unconfirmedChanges;

    public Upkeep(Engine engine, Hubs hubs, OnlineCounts onlineCounts, StatusWatchers statusWatchers,
            UnrecordedLeaves unrecordedLeaves, UnconfirmedChanges unconfirmedChanges) {
        this.engine = engine;
        this.unconfirmedChanges = unconfirmedChanges;
        this.unrecordedLeaves = unrecordedLeaves;
        this.hubs = hubs;
        this.onlineCounts = onlineCounts;
        this.statusWatchers = statusWatchers;
    }

    @Scheduled(every = "${copresence.presence.renew-interval:10s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> renew() {
        Map<String, List<String>> local = hubs.localMembers();
        return Multi.createFrom().iterable(local.entrySet())
                .onItem().transformToUni(doc -> engine.registry().renew(doc.getKey(), doc.getValue())
                        .chain(gone -> gone.isEmpty() ? Uni.createFrom().voidItem() : reassert(doc.getKey(), gone))
                        .onFailure().invoke(t -> LOG.debugf("renewal of %s failed: %s", doc.getKey(), t.getMessage()))
                        .onFailure().recoverWithNull())
                .merge(8)
                .collect().last()
                .replaceWithVoid();
    }

    /**
     * Writes again what could not be written when it happened: the online counts and the leaves whose
     * write failed. On a schedule of its own, as the lease is: each waits for Redis, and writes to a
     * Redis (or a Cluster master) that hangs must not hold back the renewals past the presence TTL.
     */
    @Scheduled(every = "${copresence.presence.renew-interval:10s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> retryFailedWrites() {
        return Uni.join().all(onlineCounts.retryFailed(), unrecordedLeaves.retry()).andCollectFailures().replaceWithVoid()
                .onFailure().recoverWithNull();
    }

    /**
     * Writes again members' changes Redis may not have made: on a schedule of its own too, as there may
     * be thousands (every typing flag that ended while Redis was away), each in its member's turn.
     */
    @Scheduled(every = "${copresence.presence.renew-interval:10s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> retryUnconfirmedChanges() {
        return unconfirmedChanges.retry().onFailure().recoverWithNull();
    }

    /**
     * The lease is taken before the node serves anyone: a node that dies before its first scheduled
     * heartbeat would otherwise be unknown to the others, and its users would stay online.
     */
    void onStart(@Observes StartupEvent event) {
        try {
            heartbeat().await().atMost(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            LOG.warnf("first heartbeat failed (%s); the scheduled ones will retry", e.getMessage());
        }
    }

    /**
     * The node's lease, on a schedule of its own: a renewal pass slowed by a busy node must not
     * delay it, or the others would reap this node's members while it is alive.
     */
    @Scheduled(every = "${copresence.presence.renew-interval:10s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> heartbeat() {
        return engine.registry().heartbeat(hubs.documentIds())
                .onFailure().invoke(t -> LOG.debugf("heartbeat failed: %s", t.getMessage()))
                .onFailure().recoverWithNull();
    }

    private Uni<Void> reassert(String doc, List<String> gone) {
        List<Member> members = hubs.members(doc, gone);
        if (members.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        LOG.infof("re-asserting %d member(s) of %s that the registry lost", members.size(), doc);
        return engine.registry().reassert(doc, members);
    }

    /**
     * After a gap: the missed durable events first (the hubs hold live events until their catch-up
     * ends), then this node's connection counts back into the registry, then the online changes
     * (read after the counts, so that a Redis that restarted empty shows this node's users online),
     * then the members, then the members' changes the gap may have lost (not in the log).
     */
    void resync(@ObservesAsync Hubs.Resync resync) {
        hubs.catchUp(engine.log(), resync.gap())
                .chain(onlineCounts::rewriteAll)
                .chain(() -> statusWatchers.catchUp(engine.registry())
                        .onFailure().invoke(t -> LOG.warnf("catching up on online status failed: %s", t.getMessage()))
                        .onFailure().recoverWithNull())
                .chain(this::renew)
                .chain(this::passOnMissedChanges)
                .subscribe().with(ok -> LOG.info("resync done"), t -> LOG.warnf("resync failed: %s", t.getMessage()));
    }

    /** Each document's members' changes the gap may have lost (Hubs.passOnMissed). */
    private Uni<Void> passOnMissedChanges() {
        return Multi.createFrom().iterable(hubs.documentIds())
                .onItem().transformToUni(doc -> hubs.passOnMissed(doc)
                        .onFailure().invoke(t -> LOG.debugf("reading the members of %s after a gap failed: %s", doc, t.getMessage()))
                        .onFailure().recoverWithNull())
                .merge(8)
                .collect().last().replaceWithVoid();
    }
}
