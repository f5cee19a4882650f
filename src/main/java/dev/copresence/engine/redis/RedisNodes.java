package dev.copresence.engine.redis;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Counter;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;

import dev.copresence.engine.redis.RedisScripts.Script;

/**
 * Node leases. Each node renews one lease per renewal interval (and its score in {@code cp:nodes})
 * under its current name ({@link Incarnation}); once a lease has run out, any surviving node reaps
 * that name: its members leave with reason {@code timeout} (exactly once, since reap.lua is gated on
 * HDEL) and its users' connections are taken off. A node that finds its own lease gone (it ran out
 * while the node was frozen, or Redis lost it) takes a new name, writes everything again under it (a
 * resync), and at its next heartbeat hands the old name to the reapers.
 */
final class RedisNodes {
    private static final Logger LOG = Logger.getLogger(RedisNodes.class);
    /**
     * A heartbeat keeps documents said served up to this long before it: the documents it sends are
     * read just before it starts, and one first served around then may be missing from them.
     */
    private static final long SERVED_MARGIN_MS = 1000;
    /** Reads of a dead node's document and user sets, each after reaping what the last one found. */
    static final int REAP_PASSES = 3;
    /** Dead names one heartbeat takes on; the rest wait for the next. */
    private static final int REAPED_PER_HEARTBEAT = 16;

    private final RedisScripts scripts;
    private final RedisSettings settings;
    private final Incarnation incarnation;
    private final RedisStatus status;
    private final Clock clock;
    private final Runnable resync;
    private final Counter reaped;
    private volatile boolean left;
    /** Nodes spared lately, so that the warning is not repeated at every heartbeat. */
    private final Set<String> spared = ConcurrentHashMap.newKeySet();

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
        if (left) {
            return Uni.createFrom().voidItem(); // a heartbeat after the goodbye would take a new name
        }
        List<String> due = incarnation.dueForReaping();
        return lease()
                .chain(node -> left ? Uni.createFrom().voidItem()
                        : handBack(due)
                                .chain(() -> expire(List.of(node)))
                                .chain(dead -> nodeDocs(node, localDocs, Long.toString(clock.millis() - SERVED_MARGIN_MS))
                                        .chain(() -> reapDeadNodes(dead))));
    }

    /**
     * Gives these names an expiry a presence TTL ahead, and answers the names whose expiry has
     * passed: both by Redis's clock (nodes.lua), which every expiry is written and judged by, as the
     * members' are in their scripts. The nodes' clocks may disagree; Redis has one.
     */
    private Uni<Response> expire(List<String> names) {
        List<String> args = new ArrayList<>(names.size() + 2);
        args.add(Long.toString(settings.presenceTtlMs()));
        args.add(Integer.toString(REAPED_PER_HEARTBEAT));
        args.addAll(names);
        return scripts.run(Script.NODES, List.of(RedisKeys.NODES), args);
    }

    /**
     * Sets this node's lease again, and answers the name it holds. A lease that was set before and is
     * gone now ran out (the node was frozen, or too busy to renew it) or was lost by Redis: whatever
     * this node wrote under that name may be reaped or gone, so it takes a new name and writes
     * everything again.
     */
    private Uni<String> lease() {
        String node = incarnation.current();
        boolean held = incarnation.held(node);
        return setLease(node, true).chain(previous -> {
            if (left) {
                return Uni.createFrom().item(node); // the goodbye deleted it: nothing to take over
            }
            String next = incarnation.afterLease(node, held, previous != null);
            if (next == null) {
                // the name may have changed meanwhile (an overlapping heartbeat): never renew a name given up
                return Uni.createFrom().item(incarnation.current());
            }
            LOG.warnf("node %s: lease was missing in Redis (reaped, or Redis lost it); re-asserting local members as %s (was %s)",
                    incarnation.node(), next, node);
            // the resync first: it must run even if the new lease cannot be set now
            resync.run();
            // in cp:nodes, to be reaped once handed back (it may have been reaped already, or lost with
            // Redis, and written to since), and left to this node's resync until then: its lease, just
            // set again by the SET above, keeps the reapers off it
            return expire(List.of(node))
                    .chain(() -> setLease(next, false))
                    .invoke(() -> incarnation.holding(next))
                    .replaceWith(next);
        });
    }

    private Uni<Response> setLease(String node, boolean get) {
        String ttl = Long.toString(settings.presenceTtlMs());
        String now = Long.toString(clock.millis());
        return get ? scripts.command("SET", RedisKeys.nodeLease(node), now, "PX", ttl, "GET")
                : scripts.command("SET", RedisKeys.nodeLease(node), now, "PX", ttl);
    }

    /**
     * Names this node gave up are marked dead (score 0, and no lease: the heartbeat that found it
     * missing set it again), to be reaped as dead nodes are, by whichever node gets there first. One
     * not marked (Redis failed) is tried again at the next heartbeat.
     */
    private Uni<Void> handBack(List<String> names) {
        return Multi.createFrom().iterable(names)
                .onItem().transformToUni(name -> scripts.command("DEL", RedisKeys.nodeLease(name))
                        .chain(() -> scripts.command("ZADD", RedisKeys.NODES, "0", name))
                        .invoke(() -> incarnation.handedBack(name)))
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

    private Uni<Void> reapDeadNodes(Response names) {
        return Multi.createFrom().iterable(names)
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
     * the lock expires and another finishes (every step is idempotent). A name no longer in
     * {@code cp:nodes} was reaped whole since the list was read. A node whose lease is still in Redis
     * is alive, whatever its expiry in {@code cp:nodes} says (a node of an older version wrote it by
     * its own clock).
     */
    private Uni<Void> reapNode(String dead) {
        return scripts.command("SET", RedisKeys.nodeReaper(dead), incarnation.current(), "NX", "PX", "10000")
                .chain(locked -> locked == null ? Uni.createFrom().voidItem()
                        : scripts.command("ZSCORE", RedisKeys.NODES, dead).chain(score -> score == null ? unlock(dead)
                                : scripts.command("PTTL", RedisKeys.nodeLease(dead)).chain(left -> left.toLong() > 0
                                        ? spared(dead, left.toLong())
                                        : reapName(dead, score.toString()))));
    }

    /**
     * Each document and user leaves the name's sets once reaped, not before (a reaper that dies leaves
     * the rest to the next), and the sets are read again until empty, so that what a node reaped while
     * alive added meanwhile is reaped too. The name leaves {@code cp:nodes} only if its score is still
     * the one read before (node-reaped.lua): a hand-back landing meanwhile keeps it there, to be reaped
     * again with whatever its node wrote after this reaper's last read.
     */
    private Uni<Void> reapName(String dead, String score) {
        return reapDocuments(dead, REAP_PASSES)
                .chain(() -> status.forgetNode(dead))
                .chain(() -> scripts.run(Script.NODE_REAPED, List.of(RedisKeys.NODES), List.of(dead, score)))
                // a name its node hands back to the reapers later is then reaped at once
                .chain(() -> unlock(dead))
                .invoke(() -> LOG.infof("node %s: reaped dead node %s", incarnation.current(), dead));
    }

    private Uni<Void> unlock(String node) {
        return scripts.command("DEL", RedisKeys.nodeReaper(node)).replaceWithVoid();
    }

    /**
     * A node past its expiry whose lease lives: they expire together, give or take the moment
     * between the two writes; by more than a second, something wrote the expiry by another clock.
     */
    private Uni<Void> spared(String node, long leaseLeftMs) {
        if (leaseLeftMs > 1000 && spared.add(node)) {
            if (spared.size() > 64) {
                spared.clear(); // bounded: at worst a warning repeated
            }
            LOG.warnf("node %s: not reaping node %s: its expiry in cp:nodes has passed but its lease is still in Redis "
                    + "(an expiry written by a clock apart from Redis's?)", incarnation.current(), node);
        }
        return unlock(node);
    }

    private Uni<Void> reapDocuments(String dead, int passes) {
        String key = RedisKeys.nodeDocs(dead);
        return scripts.command("TYPE", key).chain(type -> {
            if ("set".equals(type.toString())) { // written by an older version: reaped whole, then dropped
                return scripts.command("SMEMBERS", key)
                        .chain(docs -> reapEach(docs, dead, doc -> Uni.createFrom().voidItem()))
                        .chain(() -> scripts.command("DEL", key)).replaceWithVoid();
            }
            return scripts.command("ZRANGE", key, "0", "-1").chain(docs -> docs.size() == 0 || passes == 0
                    ? Uni.createFrom().voidItem()
                    : reapEach(docs, dead, doc -> scripts.command("ZREM", key, doc).replaceWithVoid())
                            .chain(() -> reapDocuments(dead, passes - 1)));
        });
    }

    private Uni<Void> reapEach(Response docs, String dead, Function<String, Uni<Void>> then) {
        return Multi.createFrom().iterable(docs).map(Response::toString)
                .onItem().transformToUni(doc -> reap(doc, dead).chain(() -> then.apply(doc)))
                .concatenate().collect().last().replaceWithVoid();
    }

    /** Removes a document's expired members (and all of {@code deadNode}'s), announcing each leave once. */
    Uni<Integer> reap(String doc, String deadNode) {
        return scripts.run(Script.REAP,
                List.of(RedisKeys.members(doc), RedisKeys.expiry(doc), RedisKeys.log(doc), RedisKeys.reaped(doc)),
                List.of(settings.publishCommand(), RedisKeys.events(doc), doc, settings.historySize(),
                        settings.historyTtlMs(), deadNode == null ? "-" : deadNode, settings.presenceKeyTtlMs()))
                .map(Response::toInteger)
                .invoke(n -> reaped.increment(n));
    }

    /**
     * A clean goodbye: this node's lease and sets go at once, so nobody waits for it to expire (its
     * members have left, and its connections close next), its users' counts are taken off (one whose
     * last write failed would otherwise stay, with nobody left to reap it), names it gave up are
     * marked dead for the others to reap, and no heartbeat runs after it (one would take a new name).
     */
    Uni<Void> leave() {
        left = true;
        String node = incarnation.current();
        return handBack(incarnation.givenUp())
                .chain(() -> status.forgetNode(node))
                .chain(() -> scripts.command("ZREM", RedisKeys.NODES, node))
                .chain(() -> scripts.command("DEL", RedisKeys.nodeLease(node), RedisKeys.nodeDocs(node),
                        RedisKeys.nodeUsers(node)))
                .replaceWithVoid();
    }
}
