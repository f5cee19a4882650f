package dev.copresence.engine.redis;

import java.time.Clock;
import java.util.List;
import java.util.Map;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;

import dev.copresence.engine.UserStatus;
import dev.copresence.engine.redis.RedisScripts.Script;

/**
 * Online status on Redis: per user, a hash of node name ({@link Incarnation}) to open connections.
 * Each node also keeps the set of its users, so that when it dies the others can take its
 * connections off.
 */
final class RedisStatus {
    static final long LAST_SEEN_TTL_MS = 30L * 24 * 3600 * 1000;

    private final RedisScripts scripts;
    private final RedisSettings settings;
    private final Clock clock;

    RedisStatus(RedisScripts scripts, RedisSettings settings, Clock clock) {
        this.scripts = scripts;
        this.settings = settings;
        this.clock = clock;
    }

    /**
     * The user joins this node's set before its count goes up: a node that dies between the two
     * leaves a user in its set with no count, which its reaper passes over, rather than a count no
     * reaper will find, which would keep the user online for good.
     */
    Uni<Void> connected(String user) {
        String node = settings.incarnation().current();
        return scripts.command("SADD", RedisKeys.nodeUsers(node), user)
                .chain(() -> scripts.run(Script.CONNECTED, keys(user), List.of(node, RedisKeys.STATUS_CHANNEL, user)))
                .replaceWithVoid();
    }

    Uni<Void> disconnected(String user) {
        String node = settings.incarnation().current();
        return scripts.run(Script.DISCONNECTED, keys(user), List.of(node, RedisKeys.STATUS_CHANNEL, user,
                Long.toString(clock.millis()), Long.toString(LAST_SEEN_TTL_MS)))
                .chain(left -> left.toInteger() == 0 ? scripts.command("SREM", RedisKeys.nodeUsers(node), user)
                        : Uni.createFrom().nullItem())
                .replaceWithVoid();
    }

    Uni<List<UserStatus>> status(List<String> users) {
        // One script per user: on Redis Cluster the users' keys live in different slots.
        return Multi.createFrom().iterable(users)
                .onItem().transformToUni(user -> scripts.run(Script.STATUS, keys(user), List.of())
                        .map(r -> new UserStatus(user, r.get(0).toInteger() == 1, r.get(1) == null ? null : r.get(1).toLong())))
                .concatenate()
                .collect().asList();
    }

    /**
     * Sets this node's count of each user: reassert-user.lua puts a count back; none left here takes
     * the node off the user, as node-gone.lua does for a dead node (offline if it was the last).
     */
    Uni<Void> reassert(Map<String, Integer> connectionsPerUser, boolean restart) {
        String node = settings.incarnation().current();
        return Multi.createFrom().iterable(connectionsPerUser.entrySet())
                .onItem().transformToUni(e -> e.getValue() > 0
                        ? scripts.command("SADD", RedisKeys.nodeUsers(node), e.getKey())
                                .chain(() -> scripts.run(Script.REASSERT_USER, keys(e.getKey()),
                                        List.of(node, RedisKeys.STATUS_CHANNEL, e.getKey(), e.getValue().toString(), restart ? "1" : "0")))
                        : forget(node, e.getKey(), !restart))
                .concatenate()
                .collect().last().replaceWithVoid();
    }

    /**
     * Takes a dead node's connections off each of its users; the last one out goes offline. A user
     * leaves the node's set once done, not before (a reaper that dies leaves the rest to the next),
     * and the set is read again until empty: a node reaped while alive may add users meanwhile.
     */
    Uni<Void> forgetNode(String deadNode) {
        return forgetUsers(deadNode, RedisNodes.REAP_PASSES);
    }

    private Uni<Void> forgetUsers(String deadNode, int passes) {
        String key = RedisKeys.nodeUsers(deadNode);
        return scripts.command("SMEMBERS", key).chain(users -> users.size() == 0 || passes == 0
                ? Uni.createFrom().voidItem()
                : Multi.createFrom().iterable(users).map(Response::toString)
                        .onItem().transformToUni(user -> forget(deadNode, user, false))
                        .merge(16).collect().last() // a drain waits on it (at most 5 s): not one user at a time
                        .chain(() -> forgetUsers(deadNode, passes - 1)));
    }

    /**
     * Takes a node's connections off a user, offline if they were the user's last (node-gone.lua),
     * then the user off the node's set: in that order, so a failure between leaves it for the next try.
     */
    private Uni<Response> forget(String node, String user, boolean afterFailedWrite) {
        return scripts.run(Script.NODE_GONE, keys(user),
                List.of(node, RedisKeys.STATUS_CHANNEL, user, Long.toString(clock.millis()), Long.toString(LAST_SEEN_TTL_MS),
                        afterFailedWrite ? "1" : "0"))
                .chain(() -> scripts.command("SREM", RedisKeys.nodeUsers(node), user));
    }

    private static List<String> keys(String user) {
        return List.of(RedisKeys.user(user), RedisKeys.userSeen(user));
    }
}
