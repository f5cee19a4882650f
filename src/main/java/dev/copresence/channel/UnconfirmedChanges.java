package dev.copresence.channel;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

import dev.copresence.engine.Engine;
import dev.copresence.protocol.Member;

/**
 * Changes of a member that Redis may not have made: a typing flag whose timer ended it while Redis
 * was away, or an update or typing change whose answer never came. Left alone, the others would keep
 * the member's old record until its next change: a "typing" that never ends, a state they never got.
 * Each is written again, in the member's turn ({@link MemberWrites}) and with its current record, on
 * the retry schedule until Redis takes it; not once the member has made another change of the same
 * kind (which announced itself) or has left this node.
 */
@Singleton
public final class UnconfirmedChanges {
    private static final Logger LOG = Logger.getLogger(UnconfirmedChanges.class);
    /** At most this many wait: each is a member whose change met a Redis away, on this node. */
    static final int MAX_WAITING = 10_000;

    enum Kind {
        UPDATE, TYPING
    }

    private record Key(LocalMember local, Kind kind) {
    }

    /** Each change with the record it wrote, to tell whether a newer change of its kind came since. */
    private final Map<Key, Member> waiting = new ConcurrentHashMap<>();
    private final Engine engine;
    private final MemberWrites writes;

    public UnconfirmedChanges(Engine engine, MemberWrites writes) {
        this.engine = engine;
        this.writes = writes;
    }

    /** Called in the member's turn, so a later change's entry always replaces an earlier one's. */
    void add(LocalMember local, Kind kind, Member written) {
        Key key = new Key(local, kind);
        if (waiting.size() >= MAX_WAITING && !waiting.containsKey(key)) {
            LOG.warnf("change of %s in %s not confirmed, and %d others wait already: not written again", local.id(), local.doc,
                    MAX_WAITING);
            return;
        }
        waiting.put(key, written);
    }

    /**
     * Writes every waiting change again; those Redis took, and those superseded, are done. A pass
     * ends at its first failure: Redis is still away, and each write would wait for it in turn.
     */
    Uni<Void> retry() {
        if (waiting.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        AtomicBoolean failed = new AtomicBoolean();
        return Multi.createFrom().iterable(Map.copyOf(waiting).entrySet())
                .onItem().transformToUni(entry -> failed.get() ? Uni.createFrom().voidItem()
                        : writes.inTurn(entry.getKey().local(), () -> writeAgain(entry.getKey(), entry.getValue()))
                                .onFailure().invoke(() -> failed.set(true))
                                .onFailure().recoverWithNull())
                .merge(8)
                .collect().last().replaceWithVoid();
    }

    private Uni<Void> writeAgain(Key key, Member written) {
        LocalMember local = key.local();
        Member now = local.member;
        // a newer change of the same kind announced itself; one of the other kind did not announce this one
        boolean superseded = key.kind() == Kind.UPDATE ? now.state() != written.state() : now.typing() != written.typing();
        if (superseded || local.session.memberships().get(local.doc) != local) {
            waiting.remove(key, written);
            return Uni.createFrom().voidItem();
        }
        Uni<Boolean> again = key.kind() == Kind.UPDATE
                ? engine.registry().update(local.doc, now, CommandHandler.updateFrame(local.doc, now))
                : engine.registry().typing(local.doc, now, CommandHandler.typingFrame(local.doc, now));
        // not stored: Redis lost the member (restarted empty); once the renewal has put it back, try again
        return again.invoke(stored -> {
            if (stored) {
                waiting.remove(key, written);
            }
        }).replaceWithVoid();
    }
}
