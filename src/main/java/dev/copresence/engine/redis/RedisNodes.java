package dev.copresence.engine.redis;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Counter;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;

import dev.copresence.engine.redis.RedisScripts.Script;

/**
 * Node leases. Each node renews one lease per renewal interval (and its score in {@code cp:nodes})
 * under its current name ({@link Incarnation}); when a lease passes its expiry, any surviving node
 * reaps that name: its lease goes first, then its members leave with reason {@code timeout} (exactly
 * once, since reap.lua is gated on HDEL) and its users' connections are taken off. A node that finds
 * its own lease gone (reaped while it was alive, or lost by Redis) takes a new name, writes
 * everything again under it (a resync), and at its next heartbeat hands the old name to the reapers.
 */
final class RedisNodes {
    private static final Logger LOG = Logger.getLogger(RedisNodes.class);
    /**
     * A heartbeat keeps documents said served up to this long before it: the documents it sends are
     * read just before it starts, and one first served around then may be missing from them.
     */
    private static final long SERVED_MARGIN_MS = 1000;

    private final RedisScripts scripts;
    private final RedisSettings settings;
    private final Incarnation incarnation;
    private final RedisStatus status;
    private final Clock clock;
    private final Runnable resync;
    private final Counter reaped;

    RedisNodes(RedisScripts scripts, RedisSettings settings, RedisStatus status, Clock clock, Runnable resync,
            Counter reaped) {
        this.reaped = reaped;
        this.scripts = scripts;
        this.settings = settings;
        this.incarnation = settings.incarnation();
        this.status = status;
        this.clock = clock;
        this.resync = resync;
    }

    Uni<Void> heartbeat(Set<String> localDocs) {
        List<String> retired = incarnation.takeRetired();
        return lease()
                .chain(node -> scripts.command("ZADD", RedisKeys.NODES, Long.toString(clock.millis() + settings.presenceTtlMs()), node)
                        .chain(() -> markDead(retired))
                        .chain(() -> nodeDocs(node, localDocs, Long.toString(clock.millis() - SERVED_MARGIN_MS))))
                .chain(this::reapDeadNodes);
    }

    /**
     * Sets this node's lease again, and answers the name it holds. A lease that was set before and is
     * gone now was reaped (the reaper deletes it first) or lost by Redis: whatever this node wrote
     * under that name may be gone or going, so it takes a new name and writes everything again.
     */
    private Uni<String> lease() {
        String node = incarnation.current();
        boolean held = incarnation.held(node);
        return setLease(node, true).chain(previous -> {
            String next = incarnation.afterLease(node, held, previous != null);
            if (next == null) {
                return Uni.createFrom().item(node);
            }
            LOG.warnf("node %s: lease was missing in Redis (reaped, or Redis lost it); re-asserting local members as %s (was %s)",
                    incarnation.node(), next, node);
            return setLease(next, false)
                    .invoke(() -> incarnation.holding(next))
                    .invoke(resync)
                    .replaceWith(next);
        });
    }

    private Uni<Response> setLease(String node, boolean get) {
        String ttl = Long.toString(settings.presenceTtlMs());
        String now = Long.toString(clock.millis());
        return get ? scripts.command("SET", RedisKeys.nodeLease(node), now, "PX", ttl, "GET")
                : scripts.command("SET", RedisKeys.nodeLease(node), now, "PX", ttl);
    }

    /** Names this node gave up are reaped as dead nodes are, by whichever node gets there first. */
    private Uni<Void> markDead(List<String> names) {
        return Multi.createFrom().iterable(names)
                .onItem().transformToUni(name -> scripts.command("ZADD", RedisKeys.NODES, "0", name))
                .concatenate().collect().last().replaceWithVoid();
    }

    /**
     * Adds a document to this node's set before its first local member joins: left to the next
     * heartbeat, a node killed before it would leave that member to expire with no {@code leave}.
     */
    Uni<Void> serving(String doc) {
        return nodeDocs(incarnation.current(), List.of(doc), "-").replaceWithVoid();
    }

    /** Scores the documents now, and drops those scored before {@code dropBefore} ({@code -}: none). */
    private Uni<Response> nodeDocs(String node, Collection<String> docs, String dropBefore) {
        List<String> args = new ArrayList<>(docs.size() + 3);
        args.add(settings.presenceKeyTtlMs());
        args.add(Long.toString(clock.millis()));
        args.add(dropBefore);
        args.addAll(docs);
        return scripts.run(Script.NODE_DOCS, List.of(RedisKeys.nodeDocs(node)), args);
    }

    private Uni<Void> reapDeadNodes() {
        return scripts.command("ZRANGEBYSCORE", RedisKeys.NODES, "-inf", Long.toString(clock.millis()), "LIMIT", "0", "16")
                .onItem().transformToMulti(dead -> Multi.createFrom().iterable(dead))
                .map(Response::toString)
                .filter(node -> !node.equals(incarnation.current()) && !incarnation.retiring(node))
                .onItem().transformToUni(dead -> reapNode(dead)
                        .onFailure().invoke(t -> LOG.warnf("reaping dead node %s failed (%s); retried at the next heartbeat", dead, t.getMessage()))
                        .onFailure().recoverWithNull())
                .concatenate()
                .collect().last().replaceWithVoid();
    }

    /**
     * Reaps one dead node. A short lock spares the others the same work; if this reaper dies midway,
     * the lock expires and another finishes (every step is idempotent).
     */
    private Uni<Void> reapNode(String dead) {
        return scripts.command("SET", RedisKeys.nodeReaper(dead), incarnation.current(), "NX", "PX", "10000")
                .chain(locked -> locked == null ? Uni.createFrom().voidItem()
                        // first the lease: a node reaped while alive finds it gone and takes a new name
                        : scripts.command("DEL", RedisKeys.nodeLease(dead))
                                .chain(() -> documentsOf(dead))
                                .onItem().transformToMulti(docs -> Multi.createFrom().iterable(docs))
                                .onItem().transformToUni(doc -> reap(doc.toString(), dead))
                                .concatenate().collect().asList()
                                .chain(() -> status.forgetNode(dead))
                                .chain(() -> scripts.command("DEL", RedisKeys.nodeDocs(dead), RedisKeys.nodeUsers(dead)))
                                .chain(() -> scripts.command("ZREM", RedisKeys.NODES, dead))
                                // a name its node hands back to the reapers later is then reaped at once
                                .chain(() -> scripts.command("DEL", RedisKeys.nodeReaper(dead)))
                                .invoke(() -> LOG.infof("node %s: reaped dead node %s", incarnation.current(), dead))
                                .replaceWithVoid());
    }

    /** A dead node's documents: a sorted set, or a plain set if an older version wrote it. */
    private Uni<Response> documentsOf(String dead) {
        String key = RedisKeys.nodeDocs(dead);
        return scripts.command("TYPE", key).chain(type -> "set".equals(type.toString())
                ? scripts.command("SMEMBERS", key) : scripts.command("ZRANGE", key, "0", "-1"));
    }

    /** Removes a document's expired members (and all of {@code deadNode}'s), announcing each leave once. */
    Uni<Integer> reap(String doc, String deadNode) {
        return scripts.run(Script.REAP,
                List.of(RedisKeys.members(doc), RedisKeys.expiry(doc), RedisKeys.log(doc), RedisKeys.reaped(doc)),
                List.of(settings.publishCommand(), RedisKeys.events(doc), Long.toString(clock.millis()), doc,
                        settings.historySize(), settings.historyTtlMs(), deadNode == null ? "-" : deadNode,
                        settings.presenceKeyTtlMs()))
                .map(Response::toInteger)
                .invoke(n -> reaped.increment(n));
    }

    /**
     * A clean goodbye: this node's lease and sets go at once, so nobody waits for it to expire, and
     * names it gave up are left for the others to reap.
     */
    Uni<Void> leave() {
        String node = incarnation.current();
        return markDead(incarnation.takeRetired())
                .chain(() -> scripts.command("ZREM", RedisKeys.NODES, node))
                .chain(() -> scripts.command("DEL", RedisKeys.nodeLease(node), RedisKeys.nodeDocs(node),
                        RedisKeys.nodeUsers(node)))
                .replaceWithVoid();
    }
}
