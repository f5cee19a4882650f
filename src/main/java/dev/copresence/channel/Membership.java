package dev.copresence.channel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;

import io.smallrye.mutiny.Uni;

import dev.copresence.config.CopresenceConfig;
import dev.copresence.engine.Engine;
import dev.copresence.engine.OutcomeUnknown;
import dev.copresence.engine.Replay;
import dev.copresence.engine.Snapshot;
import dev.copresence.protocol.ClientMessage;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ErrorCode;
import dev.copresence.protocol.Member;
import dev.copresence.protocol.ProtocolException;
import dev.copresence.protocol.ServerMessage;
import dev.copresence.protocol.State;
import dev.copresence.protocol.UserRef;
import dev.copresence.security.Access;
import dev.copresence.security.Tokens;

/**
 * Joining and leaving documents, who a connection is, and what happens when it goes away. Also the
 * one place where a failed message is turned into its {@code error}.
 */
@Singleton
public final class Membership {
    /** Users one connection may watch at once. */
    static final int MAX_WATCHED = 1000;
    private static final Logger LOG = Logger.getLogger(Membership.class);

    private final Engine engine;
    private final Hubs hubs;
    private final StatusWatchers statusWatchers;
    private final CopresenceConfig config;
    private final Access access;
    private final OnlineCounts onlineCounts;
    private final UnrecordedLeaves unrecordedLeaves;

    public Membership(Engine engine, Hubs hubs, StatusWatchers statusWatchers, CopresenceConfig config, Access access,
            OnlineCounts onlineCounts, UnrecordedLeaves unrecordedLeaves) {
        this.engine = engine;
        this.onlineCounts = onlineCounts;
        this.unrecordedLeaves = unrecordedLeaves;
        this.hubs = hubs;
        this.statusWatchers = statusWatchers;
        this.config = config;
        this.access = access;
    }

    /** The document a message is about: its {@code doc}, or the bound one. */
    static String docOf(Session session, String doc) {
        if (session.boundDoc() != null) {
            if (doc != null && !doc.equals(session.boundDoc())) {
                throw ProtocolException.badRequest("this connection is bound to document " + session.boundDoc());
            }
            return session.boundDoc();
        }
        if (doc == null) {
            throw ProtocolException.badRequest("doc is required");
        }
        return doc;
    }

    LocalMember member(Session session, String doc) {
        String resolved = docOf(session, doc);
        LocalMember local = session.memberships().get(resolved);
        if (local == null) {
            throw new ProtocolException(ErrorCode.NOT_JOINED, "not a member of document " + resolved);
        }
        return local;
    }

    static void checkStateSize(State state, int limit) {
        int size = state.utf8Length();
        if (size > limit) {
            throw new ProtocolException(ErrorCode.TOO_LARGE,
                    "state would be " + size + " bytes; the limit is " + limit);
        }
    }

    /**
     * Sets who the connection is (from the upgrade, or a join that names it) and counts the user
     * online. Never fails: a count the registry did not take is written again later ({@link OnlineCounts}).
     */
    public Uni<Void> identify(Session session, UserRef user) {
        session.user(user);
        session.userOnline(true);
        return onlineCounts.opened(user.id());
    }

    public Uni<Void> join(Session session, ClientMessage.Join m) {
        String doc = hubs.sharedId(docOf(session, m.doc()));
        UserRef user = userFor(session, m.user());
        // before anything else: a token refreshed with fewer documents must not read one again by a join
        if (!session.documents().allows(doc)) {
            throw new ProtocolException(ErrorCode.FORBIDDEN, "this token does not allow document " + doc);
        }
        LocalMember existing = session.memberships().get(doc);
        if (existing != null) {
            return engine.registry().snapshot(doc).invoke(s -> session.sendSnapshot(doc, new ServerMessage.Joined(m.id(), doc,
                    existing.id(), s.members(), s.offset(), m.since() == null ? null : Boolean.FALSE))).replaceWithVoid();
        }
        if (session.memberships().size() >= config.limits().docsPerConnection()) {
            throw new ProtocolException(ErrorCode.TOO_MANY_DOCS,
                    "a connection may be a member of at most " + config.limits().docsPerConnection() + " documents");
        }
        // a key set to null is absent, as an update would leave it (the contract says so of update only)
        State state = m.state() == null ? State.EMPTY : CommandHandler.merge(State.EMPTY, m.state());
        checkStateSize(state, config.limits().stateSize());
        boolean newUser = session.user() == null;
        Member member = new Member(newMemberId(), user, state, false, System.currentTimeMillis());
        LocalMember local = new LocalMember(session, doc, member);
        if (!session.addMembership(doc, local)) {
            return Uni.createFrom().voidItem(); // closed meanwhile: nobody to answer, nothing to undo
        }
        return hubs.attach(local)
                .chain(() -> hubs.readShown(doc, () -> engine.registry().join(doc, member, config.limits().membersPerDoc()))
                        // Redis may run it yet: a member no socket answers for
                        .onFailure(OutcomeUnknown.class::isInstance)
                        .invoke(() -> unrecordedLeaves.addIfJoined(doc, member.id(), leavePrefix(local, "timeout"))))
                .onFailure().invoke(() -> {
                    session.removeMembership(doc, local);
                    hubs.detach(local);
                })
                // the socket closed while the join was in flight: its goodbye already ran (perhaps before
                // the attach above, on another thread: its detach then came first), so leave now, all of it
                .call(snapshot -> session.isClosed() ? remove(local, session.goneReason()) : Uni.createFrom().voidItem())
                // a user named in this join is counted online before its joined is sent (docs/protocol.md);
                // not on a closed socket, whose goodbye, which would count it offline, has already run
                .call(snapshot -> newUser && !session.isClosed() ? identify(session, user) : Uni.createFrom().voidItem())
                .chain(snapshot -> replay(doc, m.since(), snapshot)
                        .onFailure().call(t -> engine.registry().leave(doc, member.id(), leavePrefix(local, "closed"))
                                .onFailure().invoke(() -> unrecordedLeaves.add(doc, member.id(), leavePrefix(local, "closed")))
                                .onFailure().recoverWithNull()
                                .invoke(() -> {
                                    session.removeMembership(doc, local);
                                    hubs.detach(local);
                                }))
                        .invoke(replay -> local.activate(snapshot.offset(), replay.frames(),
                                Codec.encode(new ServerMessage.Joined(m.id(), doc, member.id(), snapshot.members(),
                                        snapshot.offset(), m.since() == null ? null : replay.resumed())))))
                .replaceWithVoid();
    }

    private Uni<Replay> replay(String doc, String since, Snapshot snapshot) {
        if (since == null) {
            return Uni.createFrom().item(new Replay(false, List.of(), snapshot.offset()));
        }
        return engine.log().readAfter(doc, since, snapshot.offset());
    }

    private static UserRef userFor(Session session, UserRef claimed) {
        UserRef current = session.user();
        if (current == null) {
            return claimed != null ? claimed : anonymous();
        }
        if (claimed != null && !claimed.id().equals(current.id()) && !session.userFixedByAuth()) {
            throw ProtocolException.badRequest("this connection is user " + current.id() + "; it cannot join as another");
        }
        return current;
    }

    public Uni<Void> leave(Session session, ClientMessage.Leave m) {
        LocalMember local = member(session, m.doc());
        return remove(local, "left").chain(() -> CommandHandler.ack(session, m.id()));
    }

    /**
     * The member is gone from this node at once, whatever Redis answers: a leave Redis did not take
     * is tried again at each renewal ({@link UnrecordedLeaves}), and still fails this call.
     */
    private Uni<Void> remove(LocalMember local, String reason) {
        local.session.removeMembership(local.doc, local);
        hubs.detach(local);
        String prefix = leavePrefix(local, reason);
        return engine.registry().leave(local.doc, local.id(), prefix)
                .onFailure().invoke(() -> unrecordedLeaves.add(local.doc, local.id(), prefix))
                .replaceWithVoid();
    }

    private static String leavePrefix(LocalMember local, String reason) {
        return Codec.durablePrefix(new ServerMessage.Presence(local.doc, "leave", local.member, reason, null));
    }

    /**
     * The connection is gone: its members leave with reason {@code closed} ({@code timeout} when it
     * was closed for silence), its user may go offline.
     */
    public Uni<Void> closed(Session session) {
        if (!session.markClosed()) {
            return Uni.createFrom().voidItem();
        }
        statusWatchers.unwatch(session, new ArrayList<>(session.watched()));
        List<Uni<Void>> leaves = new ArrayList<>();
        for (LocalMember local : new ArrayList<>(session.memberships().values())) {
            leaves.add(remove(local, session.goneReason()).onFailure().invoke(t -> LOG.warnf(
                    "leave of %s in %s not recorded (%s); tried again at each renewal", local.id(), local.doc, t.getMessage()))
                    .onFailure().recoverWithNull());
        }
        Uni<Void> all = leaves.isEmpty() ? Uni.createFrom().voidItem() : Uni.join().all(leaves).andCollectFailures().replaceWithVoid();
        return all.chain(() -> session.userOnline() ? onlineCounts.closed(session.user().id()) : Uni.createFrom().voidItem());
    }

    /** A fresh token before the current one expires: same user, new expiry (and document access). */
    public Uni<Void> reauthenticate(Session session, ClientMessage.Auth m) {
        if (!access.jwtMode()) {
            throw ProtocolException.badRequest("auth is only used when the service runs with copresence.auth.mode=jwt");
        }
        Tokens.Grant grant = access.verify(m.token());
        if (grant == null) {
            throw new ProtocolException(ErrorCode.UNAUTHORIZED, "the token is invalid or expired");
        }
        if (!grant.user().id().equals(session.user().id())) {
            throw new ProtocolException(ErrorCode.UNAUTHORIZED, "the token is for another user");
        }
        session.grant(grant);
        return CommandHandler.ack(session, m.id());
    }

    /** Answers a failed message with its error; closes the connection when it was one bad message too many. */
    public void fail(Session session, JsonNode id, Throwable failure) {
        ProtocolException error = failure instanceof ProtocolException p ? p
                : new ProtocolException(ErrorCode.INTERNAL, INTERNAL_MESSAGE);
        if (!(failure instanceof ProtocolException)) {
            LOG.debugf("internal error: %s", failure.toString());
        }
        report(session, error.withId(id));
    }

    public void report(Session session, ProtocolException error) {
        session.send(new ServerMessage.Error(error.id(), error.code().wire(), error.getMessage()));
        if (error.code().countsAsBad() && session.bad(config.limits().badMessages())) {
            session.close(1008, "too many bad messages");
        }
    }

    private static final String INTERNAL_MESSAGE =
            "the service could not complete this message (its registry may be unreachable); try again";

    static String newMemberId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return "m-" + Long.toString(random.nextLong() & Long.MAX_VALUE, 36);
    }

    static UserRef anonymous() {
        return new UserRef("anon-" + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36), null);
    }
}
