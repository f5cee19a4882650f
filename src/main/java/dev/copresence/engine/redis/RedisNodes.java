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
 * Node leases. Each node renews one lease per renewal interval (and its score in {@code cp:nodes});
 * when a lease passes its expiry, any surviving node reaps that node: its members leave with reason
 * {@code timeout} (exactly once, since reap.lua is gated on HDEL) and its users' connections are taken
 * off. A node that finds its own lease gone learns that Redis lost its data (or reaped it) and asks
 * for a resync.
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
    private final RedisStatus status;
    private final Clock clock;
    private final Runnable resync;
    private final Counter reaped;

    RedisNodes(RedisScripts scripts, RedisSettings settings, RedisStatus status, Clock clock, Runnable resync,
            Counter reaped) {
        this.reaped = reaped;
        this.scripts = scripts;
        this.settings = settings;
        this.status = status;
        this.clock = clock;
        this.resync = resync;
    }

    Uni<Void> heartbeat(Set<String> localDocs) {
        String node = settings.nodeId();
        long now = clock.millis();
        String ttl = Long.toString(settings.presenceTtlMs());
        return scripts.command("SET", RedisKeys.nodeLease(node), Long.toString(now), "PX", ttl, "GET")
                .invoke(previous -> {
                    if (previous == null) {
                        LOG.infof("node %s: lease was missing in Redis; re-asserting local members", node);
                        resync.run();
                    }
                })
                .chain(() -> scripts.command("ZADD", RedisKeys.NODES, Long.toString(now + settings.presenceTtlMs()), node))
                .chain(() -> nodeDocs(localDocs, Long.toString(now - SERVED_MARGIN_MS)))
                .chain(this::reapDeadNodes);
    }

    /**
     * Adds a document to this node's set before its first local member joins: left to the next
     * heartbeat, a node killed before it would leave that member to expire with no {@code leave}.
     */
    Uni<Void> serving(String doc) {
        return nodeDocs(List.of(doc), "-").replaceWithVoid();
    }

    /** Scores the documents now, and drops those scored before {@code dropBefore} ({@code -}: none). */
    private Uni<Response> nodeDocs(Collection<String> docs, String dropBefore) {
        List<String> args = new ArrayList<>(docs.size() + 3);
        args.add(settings.presenceKeyTtlMs());
        args.add(Long.toString(clock.millis()));
        args.add(dropBefore);
        args.addAll(docs);
        return scripts.run(Script.NODE_DOCS, List.of(RedisKeys.nodeDocs(settings.nodeId())), args);
    }

    private Uni<Void> reapDeadNodes() {
        return scripts.command("ZRANGEBYSCORE", RedisKeys.NODES, "-inf", Long.toString(clock.millis()), "LIMIT", "0", "16")
                .onItem().transformToMulti(dead -> Multi.createFrom().iterable(dead))
                .map(Response::toString)
                .filter(node -> !node.equals(settings.nodeId()))
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
        return scripts.command("SET", RedisKeys.nodeReaper(dead), settings.nodeId(), "NX", "PX", "10000")
                .chain(locked -> locked == null ? Uni.createFrom().voidItem()
                        : documentsOf(dead)
                                .onItem().transformToMulti(docs -> Multi.createFrom().iterable(docs))
                                .onItem().transformToUni(doc -> reap(doc.toString(), dead))
                                .concatenate().collect().asList()
                                .chain(() -> status.forgetNode(dead))
                                .chain(() -> scripts.command("DEL", RedisKeys.nodeDocs(dead), RedisKeys.nodeUsers(dead)))
                                .chain(() -> scripts.command("ZREM", RedisKeys.NODES, dead))
                                .invoke(() -> LOG.infof("node %s: reaped dead node %s", settings.nodeId(), dead))
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

    /** A clean goodbye: this node's lease and sets go at once, so nobody waits for it to expire. */
    Uni<Void> leave() {
        String node = settings.nodeId();
        return scripts.command("ZREM", RedisKeys.NODES, node)
                .chain(() -> scripts.command("DEL", RedisKeys.nodeLease(node), RedisKeys.nodeDocs(node),
                        RedisKeys.nodeUsers(node)))
                .replaceWithVoid();
    }
}
