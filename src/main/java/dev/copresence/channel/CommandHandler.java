package dev.copresence.channel;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

import jakarta.inject.Singleton;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.Vertx;

import dev.copresence.config.CopresenceConfig;
import dev.copresence.engine.Engine;
import dev.copresence.engine.OutcomeUnknown;
import dev.copresence.protocol.ClientMessage;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ErrorCode;
import dev.copresence.protocol.Member;
import dev.copresence.protocol.ProtocolException;
import dev.copresence.protocol.ServerMessage;
import dev.copresence.protocol.State;

/**
 * What each client message does. Every check runs before any change, so a refused message changes
 * nothing; the engine call is the single step that changes shared state.
 */
@Singleton
public final class CommandHandler {
    private final Engine engine;
    private final StatusWatchers statusWatchers;
    private final Membership membership;
    private final CopresenceConfig config;
    private final Vertx vertx;
    private final UnconfirmedChanges unconfirmed;
    private final MemberWrites writes;

    public CommandHandler(Engine engine, StatusWatchers statusWatchers, Membership membership, CopresenceConfig config, Vertx vertx,
            UnconfirmedChanges unconfirmed, MemberWrites writes) {
        this.engine = engine;
        this.unconfirmed = unconfirmed;
        this.writes = writes;
        this.statusWatchers = statusWatchers;
        this.membership = membership;
        this.config = config;
        this.vertx = vertx;
    }

    /** Runs one message; its outcome (answer or error) is queued on the session before the item. */
    public Uni<Void> handle(Session session, ClientMessage message) {
        if (session.isClosed()) {
            // it waited behind a slower message while the socket closed: the goodbye has run and
            // would not undo it (a join would leave a member no socket answers for)
            return Uni.createFrom().voidItem();
        }
        Uni<Void> result;
        try {
            result = dispatch(session, message);
        } catch (ProtocolException e) {
            result = Uni.createFrom().failure(e);
        }
        return result.onItem().invoke(session::good)
                .onFailure().recoverWithItem(t -> {
                    membership.fail(session, message.id(), t);
                    return null;
                });
    }

    private Uni<Void> dispatch(Session session, ClientMessage message) {
        if (message instanceof ClientMessage.Join m) {
            return membership.join(session, m);
        }
        if (message instanceof ClientMessage.Leave m) {
            return membership.leave(session, m);
        }
        if (message instanceof ClientMessage.Update m) {
            return update(session, m);
        }
        if (message instanceof ClientMessage.Typing m) {
            return typing(session, m);
        }
        if (message instanceof ClientMessage.Broadcast m) {
            return broadcast(session, m);
        }
        if (message instanceof ClientMessage.Signal m) {
            return signal(session, m);
        }
        if (message instanceof ClientMessage.Watch m) {
            return watch(session, m);
        }
        if (message instanceof ClientMessage.Unwatch m) {
            statusWatchers.unwatch(session, m.users());
            return ack(session, m.id());
        }
        if (message instanceof ClientMessage.Ping m) {
            session.send(new ServerMessage.Pong(m.id()));
            return Uni.createFrom().voidItem();
        }
        if (message instanceof ClientMessage.Auth m) {
            return membership.reauthenticate(session, m);
        }
        throw new ProtocolException(ErrorCode.UNKNOWN_TYPE, "unknown message type");
    }

    static Uni<Void> ack(Session session, JsonNode id) {
        if (id != null) {
            session.send(new ServerMessage.Ack(id));
        }
        return Uni.createFrom().voidItem();
    }

    private Uni<Void> update(Session session, ClientMessage.Update m) {
        LocalMember local = membership.member(session, m.doc());
        return writes.inTurn(local, () -> {
            Member current = local.member;
            State merged = merge(current.state(), m.state());
            Membership.checkStateSize(merged, config.limits().stateSize());
            Member next = current.withState(merged);
            local.member = next;
            return engine.registry().update(local.doc, next, updateFrame(local.doc, next))
                    // refused, it changes nothing: else the node's record would carry it into the member's next
                    // update and into what a renewal re-asserts, though no one was told. Not when Redis had it
                    // and its answer did not come (a timeout, a reset): Redis may have applied it, and the record
                    // had better say what the others may see; it is written again until Redis takes it
                    .onFailure().invoke(t -> {
                        if (refused(t)) {
                            local.member = current; // nothing else changed it: its changes take turns
                        } else {
                            unconfirmed.add(local, UnconfirmedChanges.Kind.UPDATE, next);
                        }
                    });
        }).chain(() -> ack(session, m.id()));
    }

    static String updateFrame(String doc, Member member) {
        return Codec.encode(new ServerMessage.Presence(doc, "update", member, null, null));
    }

    static String typingFrame(String doc, Member member) {
        return Codec.encode(new ServerMessage.Typing(doc, member.id(), member.user().id(), member.typing()));
    }

    /** The flag of a {@link #typingFrame}: its last field. */
    static boolean typingOn(String typingFrame) {
        return typingFrame.endsWith("true}");
    }

    /** Shallow merge: each key of the change replaces the member's; a key set to null is removed. */
    static State merge(State state, ObjectNode change) {
        ObjectNode merged = state.tree();
        Iterator<Map.Entry<String, JsonNode>> fields = change.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (field.getValue().isNull()) {
                merged.remove(field.getKey());
            } else {
                merged.set(field.getKey(), field.getValue());
            }
        }
        return State.of(merged);
    }

    private Uni<Void> typing(Session session, ClientMessage.Typing m) {
        LocalMember local = membership.member(session, m.doc());
        return writes.inTurn(local, () -> {
            long generation;
            synchronized (local) { // the timer reads it on its own thread
                generation = ++local.typingGeneration;
            }
            if (m.typing()) {
                long ttl = Math.max(1, config.typing().ttl().toMillis());
                vertx.setTimer(ttl, id -> expireTyping(local, generation));
            }
            return local.member.typing() == m.typing() ? Uni.createFrom().voidItem() : setTyping(local, m.typing(), true);
        }).chain(() -> ack(session, m.id()));
    }

    /** A {@code typing: true} not refreshed within the typing TTL ends by itself. */
    private void expireTyping(LocalMember local, long generation) {
        writes.inTurn(local, () -> {
            synchronized (local) {
                if (local.typingGeneration != generation || !local.member.typing()) {
                    return Uni.createFrom().voidItem();
                }
                local.typingGeneration++;
            }
            // not put back when refused: the member did stop typing, and it is written again until Redis takes it
            return setTyping(local, false, false);
        }).subscribe().with(ok -> {
        }, failure -> {
        });
    }

    /**
     * Changes the record and writes it; called in the member's turn.
     *
     * @param undoIfRefused a client's change, answered with an error when refused, which then changes nothing
     */
    private Uni<Void> setTyping(LocalMember local, boolean typing, boolean undoIfRefused) {
        Member before = local.member;
        Member next = before.withTyping(typing);
        local.member = next;
        return engine.registry().typing(local.doc, next, typingFrame(local.doc, next)).onFailure().invoke(t -> {
            if (undoIfRefused && refused(t)) {
                local.member = before; // as for an update: a refused change is not kept
            } else {
                unconfirmed.add(local, UnconfirmedChanges.Kind.TYPING, next);
            }
        }).replaceWithVoid();
    }

    /**
     * A failure that says the registry did not take the change; one after which Redis may still have
     * made it (no answer in time, or its connection ended first) says nothing either way.
     */
    private static boolean refused(Throwable failure) {
        return !(failure instanceof OutcomeUnknown);
    }

    private Uni<Void> broadcast(Session session, ClientMessage.Broadcast m) {
        LocalMember local = membership.member(session, m.doc());
        String prefix = Codec.durablePrefix(new ServerMessage.Broadcast(local.doc, local.id(), m.data(), null));
        return engine.log().broadcast(local.doc, local.id(), m.echo(), prefix).chain(() -> ack(session, m.id()));
    }

    private Uni<Void> signal(Session session, ClientMessage.Signal m) {
        LocalMember local = membership.member(session, m.doc());
        String frame = Codec.encode(new ServerMessage.Signal(local.doc, local.id(), m.data()));
        return engine.bus().signal(local.doc, m.to(), frame).chain(delivered -> {
            if (!delivered) {
                return Uni.createFrom().failure(new ProtocolException(ErrorCode.UNKNOWN_MEMBER,
                        "no member " + m.to() + " in document " + local.doc));
            }
            return ack(session, m.id());
        });
    }

    private Uni<Void> watch(Session session, ClientMessage.Watch m) {
        for (String user : m.users()) { // refused as a whole: nobody is watched
            if (!session.watchable().allows(user)) {
                throw new ProtocolException(ErrorCode.FORBIDDEN, "this token does not allow watching user " + user);
            }
        }
        List<String> added = m.users().stream().filter(u -> !session.watched().contains(u)).toList();
        if (session.watched().size() + added.size() > Membership.MAX_WATCHED) {
            throw ProtocolException.badRequest("a connection may watch at most " + Membership.MAX_WATCHED + " users");
        }
        statusWatchers.watch(session, m.users());
        if (session.isClosed()) { // closed on another thread meanwhile, its goodbye perhaps before the watch
            statusWatchers.abandonWatch(session, m.users());
            return Uni.createFrom().voidItem();
        }
        // a watch that fails or is cancelled stops only what it started, and releases what it held
        return engine.registry().status(m.users())
                .invoke(current -> statusWatchers.answerStatus(session, current))
                .onFailure().invoke(t -> statusWatchers.abandonWatch(session, added))
                .onCancellation().invoke(() -> statusWatchers.abandonWatch(session, added))
                .chain(() -> ack(session, m.id()));
    }

}
