package dev.copresence.channel;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

import dev.copresence.config.CopresenceConfig;
import dev.copresence.engine.Engine;

/**
 * Leaves this node could not record when they happened (Redis did not answer), tried again at each
 * renewal until Redis takes them. Left alone, such a member would expire and be reaped as a timeout,
 * unless Redis lost it meanwhile (it restarted empty): then no one would ever announce its leave,
 * and every reader that saw it join would keep it for good. Also the members of joins whose outcome
 * is not known (answered {@code internal}, yet Redis may have run them): no socket answers for such
 * a member, so it leaves as soon as Redis shows it, rather than at its expiry.
 */
@Singleton
public final class UnrecordedLeaves {
    private static final Logger LOG = Logger.getLogger(UnrecordedLeaves.class);
    /** At most this many wait: each is a member that left while Redis was away, on this node. */
    static final int MAX_WAITING = 10_000;

    private record Key(String doc, String member) {
    }

    /** @param left the member did leave, so its leave is announced even if Redis lost it; else only if Redis holds it */
    private record Waiting(String leavePrefix, boolean left, long since) {
    }

    private final Map<Key, Waiting> waiting = new ConcurrentHashMap<>();
    private final Engine engine;
    /** Past this the member's history is gone too, and the node stops trying (a Redis away this long). */
    private final long giveUpAfterMillis;
    /**
     * How long a join whose outcome is not known is watched for: the join may still be on its way to
     * Redis (another connection, a paused Redis) when its leave first finds nothing; past a presence
     * TTL a member no node renews has expired anyway.
     */
    private final long watchJoinMillis;

    public UnrecordedLeaves(Engine engine, CopresenceConfig config) {
        this.engine = engine;
        this.giveUpAfterMillis = config.history().ttl().toMillis();
        this.watchJoinMillis = config.presence().ttl().toMillis();
    }

    /** A member's leave was not recorded; {@code leavePrefix} is the frame it was to be announced with. */
    void add(String doc, String member, String leavePrefix) {
        wait(doc, member, new Waiting(leavePrefix, true, System.currentTimeMillis()));
    }

    /** A join whose outcome is not known: its member leaves if Redis holds it. */
    void addIfJoined(String doc, String member, String leavePrefix) {
        wait(doc, member, new Waiting(leavePrefix, false, System.currentTimeMillis()));
    }

    private void wait(String doc, String member, Waiting leave) {
        if (waiting.size() >= MAX_WAITING) {
            LOG.warnf("leave of %s in %s not recorded, and %d others wait already: not tried again", member, doc, MAX_WAITING);
            return;
        }
        waiting.put(new Key(doc, member), leave);
    }

    /** Tries every waiting leave again; those Redis answered (announced now or before) are done. */
    Uni<Void> retry() {
        if (waiting.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        long now = System.currentTimeMillis();
        return Multi.createFrom().iterable(Map.copyOf(waiting).entrySet())
                .onItem().transformToUni(entry -> {
                    Key key = entry.getKey();
                    if (now - entry.getValue().since() > giveUpAfterMillis) {
                        LOG.warnf("leave of %s in %s not recorded for %s; no longer tried", key.member(), key.doc(),
                                Duration.ofMillis(giveUpAfterMillis));
                        waiting.remove(key, entry.getValue());
                        return Uni.createFrom().voidItem();
                    }
                    Waiting leave = entry.getValue();
                    if (!leave.left()) { // done once the member was found and left, or could no longer be there
                        return engine.registry().leave(key.doc(), key.member(), leave.leavePrefix())
                                .invoke(offset -> {
                                    if (offset != null || now - leave.since() > watchJoinMillis) {
                                        waiting.remove(key, leave);
                                    }
                                })
                                .replaceWithVoid().onFailure().recoverWithNull();
                    }
                    return engine.registry().leaveAgain(key.doc(), key.member(), leave.leavePrefix())
                            .invoke(() -> waiting.remove(key, leave))
                            .onFailure().recoverWithNull();
                })
                .merge(8)
                .collect().last().replaceWithVoid();
    }
}
