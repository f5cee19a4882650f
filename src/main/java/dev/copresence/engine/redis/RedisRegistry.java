package dev.copresence.engine.redis;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
 * writes the hash, the expiry set and the stream and publishes the event in one atomic step. Online
 * status and node leases are delegated to {@link RedisStatus} and {@link RedisNodes}.
 */
final class RedisRegistry implements Registry, Log {
    private final RedisScripts scripts;
    private final RedisSettings settings;
    private final RedisStatus status;
    private final RedisNodes nodes;

    RedisRegistry(RedisScripts scripts, RedisSettings settings, RedisStatus status, RedisNodes nodes) {
        this.scripts = scripts;
        this.settings = settings;
        this.status = status;
        this.nodes = nodes;
    }

    private static List<String> docKeys(String doc) {
        return List.of(RedisKeys.members(doc), RedisKeys.expiry(doc), RedisKeys.log(doc));
    }

    @Override
    public Uni<Snapshot> join(String doc, Member member, int maxMembers) {
        return scripts.run(Script.JOIN, docKeys(doc),
                List.of(settings.publishCommand(), RedisKeys.events(doc), member.id(), Codec.encodeStoredMember(member, settings.incarnation().current()),
                        presenceTtl(), Integer.toString(maxMembers), settings.historySize(),
                        settings.historyTtlMs(), Codec.joinPrefix(doc, member), settings.presenceKeyTtlMs()))
                .onFailure(t -> t.getMessage() != null && t.getMessage().contains("DOC_FULL"))
                .transform(t -> new ProtocolException(ErrorCode.DOC_FULL,
                        "document " + doc + " has " + maxMembers + " members, the most allowed"))
                .map(r -> new Snapshot(members(r.get(1)), r.get(0).toString()));
    }

    @Override
    public Uni<String> leave(String doc, String memberId, String leavePrefix) {
        return leave(doc, memberId, leavePrefix, "0").map(r -> r == null ? null : r.toString());
    }

    @Override
    public Uni<Void> leaveAgain(String doc, String memberId, String leavePrefix) {
        return leave(doc, memberId, leavePrefix, "1").replaceWithVoid();
    }

    private Uni<Response> leave(String doc, String memberId, String leavePrefix, String again) {
        return scripts.run(Script.LEAVE,
                List.of(RedisKeys.members(doc), RedisKeys.expiry(doc), RedisKeys.log(doc), RedisKeys.reaped(doc)),
                List.of(settings.publishCommand(), RedisKeys.events(doc), memberId, settings.historySize(),
                        settings.historyTtlMs(), leavePrefix, again));
    }

    @Override
    public Uni<Boolean> update(String doc, Member member, String frame) {
        return store(doc, member, new DocEvent(DocEvent.Kind.UPDATE, null, member.id(), null, frame));
    }

    @Override
    public Uni<Boolean> typing(String doc, Member member, String frame) {
        return store(doc, member, new DocEvent(DocEvent.Kind.TYPING, null, member.id(), null, frame));
    }

    private Uni<Boolean> store(String doc, Member member, DocEvent event) {
        return scripts.run(Script.STORE, List.of(RedisKeys.members(doc)),
                List.of(settings.publishCommand(), RedisKeys.events(doc), member.id(), Codec.encodeStoredMember(member, settings.incarnation().current()),
                        event.toWire()))
                .map(stored -> stored.toInteger() == 1);
    }

    @Override
    public Uni<List<String>> renew(String doc, List<String> memberIds) {
        List<String> args = new ArrayList<>(memberIds.size() + 4);
        args.add(presenceTtl());
        args.add(settings.presenceKeyTtlMs());
        args.add(settings.historyTtlMs());
        args.add(settings.incarnation().current());
        args.addAll(memberIds);
        return scripts.run(Script.RENEW, List.of(RedisKeys.members(doc), RedisKeys.expiry(doc), RedisKeys.log(doc)), args)
                .map(RedisRegistry::strings)
                .call(() -> nodes.reap(doc, null));
    }

    @Override
    public Uni<Void> reassert(String doc, List<Member> members) {
        String node = settings.incarnation().current();
        List<String> args = new ArrayList<>(6 + 3 * members.size());
        args.addAll(List.of(settings.publishCommand(), RedisKeys.events(doc), presenceTtl(),
                settings.historySize(), settings.historyTtlMs(), settings.presenceKeyTtlMs()));
        for (int i = 0; i < members.size(); i++) {
            args.add(members.get(i).id());
            args.add(Codec.encodeStoredMember(members.get(i), node));
            args.add(Codec.joinPrefix(doc, members.get(i)));
        }
        return scripts.run(Script.REASSERT, List.of(RedisKeys.members(doc), RedisKeys.expiry(doc), RedisKeys.log(doc),
                RedisKeys.reaped(doc)), args).replaceWithVoid();
    }

    @Override
    public Uni<Void> reassertConnections(Map<String, Integer> connectionsPerUser, boolean restart) {
        return status.reassert(connectionsPerUser, restart);
    }

    @Override
    public Uni<Void> serving(String doc) {
        return nodes.serving(doc);
    }

    @Override
    public Uni<Void> heartbeat(Set<String> localDocs) {
        return nodes.heartbeat(localDocs);
    }

    @Override
    public Uni<Void> goodbye() {
        return nodes.leave();
    }

    @Override
    public Uni<Snapshot> snapshot(String doc) {
        return scripts.run(Script.SNAPSHOT, List.of(RedisKeys.members(doc), RedisKeys.log(doc)), List.of())
                .map(r -> new Snapshot(members(r.get(1)), r.get(0).toString()));
    }

    @Override
    public Uni<Void> connected(String user) {
        return status.connected(user);
    }

    @Override
    public Uni<Void> disconnected(String user) {
        return status.disconnected(user);
    }

    @Override
    public Uni<List<UserStatus>> status(List<String> users) {
        return status.status(users);
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
        if (!isStreamId(since)) {
            // Not a stream id: not an offset this service issued on Redis.
            return snapshot(doc).map(s -> Replay.notResumable(s.offset()));
        }
        return scripts.run(Script.REPLAY, List.of(RedisKeys.log(doc)), List.of(since, until == null ? "+" : until))
                .map(r -> {
                    if (r.get(0).toInteger() == 0) {
                        return Replay.notResumable(r.get(1).toString());
                    }
                    return new Replay(true, strings(r.get(2)), r.get(1).toString());
                });
    }

    @Override
    public Uni<Missed> eventsAfter(String doc, String offset, boolean all) {
        String checked = offset == null || !isStreamId(offset) ? "-" : offset;
        return scripts.run(Script.CATCH_UP, List.of(RedisKeys.log(doc)), List.of(checked, settings.historySize(), all ? "1" : "0"))
                .map(RedisRegistry::missed);
    }

    /** catch-up.lua's answer, {whole, entries}, with each entry's event rebuilt from its fields. */
    private static Missed missed(Response answer) {
        Response entries = answer.get(1);
        List<DocEvent> events = new ArrayList<>(entries.size());
        for (Response entry : entries) {
            String id = entry.get(0).toString();
            Response fields = entry.get(1);
            String prefix = field(fields, "p");
            String kind = field(fields, "k");
            String origin = field(fields, "o");
            events.add(DocEvent.logged(kind, id, origin, Codec.withOffset(prefix, id)));
        }
        return new Missed(events, answer.get(0).toInteger() == 1);
    }

    private static String field(Response fields, String name) {
        for (int i = 0; i + 1 < fields.size(); i += 2) {
            if (name.equals(fields.get(i).toString())) {
                return fields.get(i + 1).toString();
            }
        }
        return null;
    }

    /** A stream id Redis takes: two unsigned 64-bit numbers (20 digits can be more, which Redis refuses). */
    private static boolean isStreamId(String offset) {
        if (!offset.matches("\\d{1,20}-\\d{1,20}")) {
            return false;
        }
        int dash = offset.indexOf('-');
        try {
            Long.parseUnsignedLong(offset.substring(0, dash));
            Long.parseUnsignedLong(offset.substring(dash + 1));
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Scripts add it to Redis's clock for a member's expiry: the nodes' clocks may disagree. */
    private String presenceTtl() {
        return Long.toString(settings.presenceTtlMs());
    }

    private static List<String> strings(Response array) {
        List<String> result = new ArrayList<>(array.size());
        for (Response item : array) {
            result.add(item.toString());
        }
        return result;
    }

    private static List<Member> members(Response jsons) {
        List<Member> members = new ArrayList<>(jsons.size());
        for (Response json : jsons) {
            members.add(Codec.decodeStoredMember(json.toString()));
        }
        return members;
    }
}
