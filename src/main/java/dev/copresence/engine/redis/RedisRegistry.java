package dev.copresence.engine.redis;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;

import dev.copresence.engine.DocEvent;
import dev.copresence.engine.Log;
import dev.copresence.engine.Registry;
import dev.copresence.engine.Replay;
import dev.copresence.engine.Snapshot;
import dev.copresence.engine.UserStatus;
import dev.copresence.engine.redis.RedisScripts.Script;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ErrorCode;
import dev.copresence.protocol.Member;
import dev.copresence.protocol.ProtocolException;

/**
 * Registry and log on Redis: each change is one Lua script over the keys of one document, which
 * writes the hash, the expiry set and the stream and publishes the event in one atomic step.
 */
final class RedisRegistry implements Registry, Log {
    private static final long LAST_SEEN_TTL_MS = 30L * 24 * 3600 * 1000;

    private final RedisScripts scripts;
    private final RedisSettings settings;
    private final Clock clock;

    RedisRegistry(RedisScripts scripts, RedisSettings settings, Clock clock) {
        this.scripts = scripts;
        this.settings = settings;
        this.clock = clock;
    }

    @Override
    public Uni<Snapshot> join(String doc, Member member, String joinPrefix, int maxMembers) {
        return scripts.run(Script.JOIN,
                List.of(RedisKeys.members(doc), RedisKeys.expiry(doc), RedisKeys.log(doc)),
                List.of(settings.publishCommand(), RedisKeys.events(doc), member.id(), Codec.encodeStoredMember(member),
                        Long.toString(expiry()), Integer.toString(maxMembers), settings.historySize(),
                        settings.historyTtlMs(), joinPrefix, settings.presenceKeyTtlMs()))
                .onFailure(t -> t.getMessage() != null && t.getMessage().contains("DOC_FULL"))
                .transform(t -> new ProtocolException(ErrorCode.DOC_FULL,
                        "document " + doc + " has " + maxMembers + " members, the most allowed"))
                .map(r -> new Snapshot(members(r.get(1)), r.get(0).toString()));
    }

    @Override
    public Uni<String> leave(String doc, String memberId, String leavePrefix) {
        return scripts.run(Script.LEAVE,
                List.of(RedisKeys.members(doc), RedisKeys.expiry(doc), RedisKeys.log(doc)),
                List.of(settings.publishCommand(), RedisKeys.events(doc), memberId, settings.historySize(),
                        settings.historyTtlMs(), leavePrefix))
                .map(r -> r == null ? null : r.toString());
    }

    @Override
    public Uni<Void> update(String doc, Member member, String frame) {
        return store(doc, member, new DocEvent(DocEvent.Kind.UPDATE, null, member.id(), null, frame));
    }

    @Override
    public Uni<Void> typing(String doc, Member member, String frame) {
        return store(doc, member, new DocEvent(DocEvent.Kind.TYPING, null, member.id(), null, frame));
    }

    private Uni<Void> store(String doc, Member member, DocEvent event) {
        return scripts.run(Script.STORE, List.of(RedisKeys.members(doc)),
                List.of(settings.publishCommand(), RedisKeys.events(doc), member.id(), Codec.encodeStoredMember(member),
                        event.toWire()))
                .replaceWithVoid();
    }

    @Override
    public Uni<Void> renew(String doc, List<String> memberIds) {
        List<String> args = new ArrayList<>(memberIds.size() + 2);
        args.add(Long.toString(expiry()));
        args.add(settings.presenceKeyTtlMs());
        args.addAll(memberIds);
        return scripts.run(Script.RENEW, List.of(RedisKeys.members(doc), RedisKeys.expiry(doc)), args).replaceWithVoid();
    }

    @Override
    public Uni<Snapshot> snapshot(String doc) {
        return scripts.run(Script.SNAPSHOT, List.of(RedisKeys.members(doc), RedisKeys.log(doc)), List.of())
                .map(r -> new Snapshot(members(r.get(1)), r.get(0).toString()));
    }

    @Override
    public Uni<Void> connected(String user) {
        return scripts.run(Script.CONNECTED, List.of(RedisKeys.user(user), RedisKeys.userSeen(user)),
                List.of(settings.nodeId(), RedisKeys.STATUS_CHANNEL, user)).replaceWithVoid();
    }

    @Override
    public Uni<Void> disconnected(String user) {
        return scripts.run(Script.DISCONNECTED, List.of(RedisKeys.user(user), RedisKeys.userSeen(user)),
                List.of(settings.nodeId(), RedisKeys.STATUS_CHANNEL, user, Long.toString(clock.millis()),
                        Long.toString(LAST_SEEN_TTL_MS)))
                .replaceWithVoid();
    }

    @Override
    public Uni<List<UserStatus>> status(List<String> users) {
        // One script per user: on Redis Cluster the users' keys live in different slots.
        return Multi.createFrom().iterable(users)
                .onItem().transformToUni(user -> scripts.run(Script.STATUS,
                        List.of(RedisKeys.user(user), RedisKeys.userSeen(user)), List.of())
                        .map(r -> new UserStatus(user, r.get(0).toInteger() == 1,
                                r.get(1) == null ? null : r.get(1).toLong())))
                .concatenate()
                .collect().asList();
    }

    @Override
    public Uni<String> broadcast(String doc, String origin, boolean echo, String prefix) {
        return scripts.run(Script.BROADCAST, List.of(RedisKeys.log(doc)),
                List.of(settings.publishCommand(), RedisKeys.events(doc),
                        String.valueOf((echo ? DocEvent.Kind.DURABLE_TO_ALL : DocEvent.Kind.DURABLE_TO_OTHERS).code()),
                        origin == null ? "-" : origin, settings.historySize(), settings.historyTtlMs(), prefix))
                .map(Response::toString);
    }

    @Override
    public Uni<Replay> readAfter(String doc, String since, String until) {
        if (!since.matches("\\d{1,20}-\\d{1,20}")) {
            // Not a stream id: not an offset this service issued on Redis.
            return snapshot(doc).map(s -> Replay.notResumable(s.offset()));
        }
        return scripts.run(Script.REPLAY, List.of(RedisKeys.log(doc)), List.of(since, until == null ? "+" : until))
                .map(r -> {
                    if (r.get(0).toInteger() == 0) {
                        return Replay.notResumable(r.get(1).toString());
                    }
                    List<String> frames = new ArrayList<>(r.get(2).size());
                    for (Response frame : r.get(2)) {
                        frames.add(frame.toString());
                    }
                    return new Replay(true, frames, r.get(1).toString());
                });
    }

    private long expiry() {
        return clock.millis() + settings.presenceTtlMs();
    }

    private static List<Member> members(Response jsons) {
        List<Member> members = new ArrayList<>(jsons.size());
        for (Response json : jsons) {
            members.add(Codec.decodeStoredMember(json.toString()));
        }
        return members;
    }
}
