package dev.copresence.engine.memory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import io.smallrye.mutiny.Uni;

import dev.copresence.engine.Bus;
import dev.copresence.engine.DocEvent;
import dev.copresence.engine.Engine;
import dev.copresence.engine.EngineListener;
import dev.copresence.engine.Log;
import dev.copresence.engine.Registry;
import dev.copresence.engine.Replay;
import dev.copresence.engine.Snapshot;
import dev.copresence.engine.UserStatus;
import dev.copresence.engine.memory.MemoryDocument.Entry;
import dev.copresence.engine.memory.MemoryDocument.Joined;
import dev.copresence.engine.memory.MemoryDocument.Logged;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ErrorCode;
import dev.copresence.protocol.Member;
import dev.copresence.protocol.ProtocolException;

/**
 * The embedded engine of a single node: registry, log and bus in this process. Each document is
 * guarded by its own lock, and its events are handed to the listener inside that lock, so durable
 * events reach every member in offset order, exactly as they do through Redis.
 *
 * <p>One class for the three parts, on purpose: they share each document's lock, and that lock is
 * what gives every event its place in the order.
 *
 * <p>Offsets are {@code <epoch>-<seq>}: the epoch changes at every start, so an offset issued before
 * a restart can never be mistaken for one of this run (it gives {@code resumed: false}).
 */
public final class MemoryEngine implements Registry, Log, Bus {
    private final String epoch = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50));
    private final Map<String, MemoryDocument> docs = new ConcurrentHashMap<>();
    private final Map<String, Boolean> subscribed = new ConcurrentHashMap<>();
    private final MemoryUserStatus users;
    private final int historySize;
    private final Duration historyTtl;
    /**
     * The characters all histories may hold. Each document's is bounded by {@code history.size}, but
     * documents are not: one client may write into sixty-four of them, and many clients into more.
     */
    private final long historyMemory;
    private final AtomicLong historyChars = new AtomicLong();
    private final AtomicBoolean evicting = new AtomicBoolean();
    private final Clock clock;
    private volatile EngineListener listener;

    public MemoryEngine(int historySize, Duration historyTtl, Clock clock) {
        this(historySize, historyTtl, Long.MAX_VALUE, clock);
    }

    /** @param historyMemory characters of history kept across all documents (a join counts its state and 200) */
    public MemoryEngine(int historySize, Duration historyTtl, long historyMemory, Clock clock) {
        this.historyMemory = historyMemory;
        // one place more, for a resuming member's own join: it must not push out the oldest event its
        // replay needs, read just after it
        this.historySize = historySize + 1;
        this.historyTtl = historyTtl;
        this.clock = clock;
        this.users = new MemoryUserStatus(clock, this::announce);
    }

    public Engine asEngine() {
        return new Engine(this, this, this);
    }

    /** Offsets come from one counter for all documents, so none is ever issued twice in a run. */
    private final AtomicLong sequence = new AtomicLong();
    /**
     * The last offset of any document {@link #sweep} forgot (0: none yet). A document the engine holds
     * nothing of had no event after it: from there on, every event of a document is held until trimmed.
     */
    private final AtomicLong forgottenUpTo = new AtomicLong();

    private MemoryDocument doc(String doc) {
        return docs.computeIfAbsent(doc, d -> new MemoryDocument(forgottenUpTo.get(), sequence.get(), clock.millis(), historyChars));
    }

    private String offset(long seq) {
        return epoch + "-" + seq;
    }

    /**
     * Appends a durable frame and delivers it; the caller holds the document's lock.
     *
     * @param joined the member whose join this is, or null
     */
    private String append(String doc, MemoryDocument state, String origin, boolean toOrigin, String prefix, Member joined) {
        long seq = sequence.incrementAndGet();
        state.seq = seq;
        String offset = offset(seq);
        String frame = Codec.withOffset(prefix, offset);
        state.add(joined == null ? new Logged(seq, frame) : new Joined(seq, joined), historySize);
        state.touchedAt = clock.millis();
        deliver(doc, DocEvent.durable(offset, origin, toOrigin, frame));
        return offset;
    }

    private void deliver(String doc, DocEvent event) {
        EngineListener l = listener;
        if (l != null && subscribed.containsKey(doc)) {
            l.onDocEvent(doc, event);
        }
    }

    // ---- Registry -------------------------------------------------------------------------------

    @Override
    public Uni<Snapshot> join(String doc, Member member, int maxMembers) {
        return Uni.createFrom().item(() -> {
            String prefix = Codec.joinPrefix(doc, member); // encoded outside the document's lock
            MemoryDocument state = doc(doc);
            synchronized (state) {
                if (state.members.size() >= maxMembers) {
                    throw new ProtocolException(ErrorCode.DOC_FULL, "document " + doc + " has " + maxMembers
                            + " members, the most allowed");
                }
                state.members.put(member.id(), member);
                String offset = append(doc, state, member.id(), false, prefix, member);
                return new Snapshot(List.copyOf(state.members.values()), offset);
            }
        }).invoke(this::keepWithinMemory);
    }

    @Override
    public Uni<String> leave(String doc, String memberId, String leavePrefix) {
        return Uni.createFrom().item(() -> {
            MemoryDocument state = doc(doc);
            synchronized (state) {
                if (state.members.remove(memberId) == null) {
                    return null;
                }
                return append(doc, state, memberId, false, leavePrefix, null);
            }
        }).invoke(this::keepWithinMemory);
    }

    /** A leave never fails here: nothing to try again. */
    @Override
    public Uni<Void> leaveAgain(String doc, String memberId, String leavePrefix) {
        return leave(doc, memberId, leavePrefix).replaceWithVoid();
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
        return Uni.createFrom().item(() -> {
            MemoryDocument state = doc(doc);
            synchronized (state) {
                if (state.members.replace(member.id(), member) == null) {
                    return false;
                }
                deliver(doc, event);
                return true;
            }
        });
    }

    /** One node holds every member: nothing expires, nothing is ever lost. */
    @Override
    public Uni<List<String>> renew(String doc, List<String> memberIds) {
        return Uni.createFrom().item(List.of());
    }

    @Override
    public Uni<Void> reassert(String doc, List<Member> members) {
        return Uni.createFrom().voidItem();
    }

    @Override
    public Uni<Void> reassertConnections(Map<String, Integer> connectionsPerUser, boolean restart) {
        return Uni.createFrom().voidItem();
    }

    @Override
    public Uni<Void> serving(String doc) {
        return Uni.createFrom().voidItem(); // one node: nobody reaps it
    }

    @Override
    public Uni<Void> heartbeat(Set<String> localDocs) {
        return Uni.createFrom().item(() -> {
            sweep();
            return null;
        });
    }

    @Override
    public Uni<Void> goodbye() {
        return Uni.createFrom().voidItem();
    }

    @Override
    public Uni<Missed> eventsAfter(String doc, String offset, boolean all) {
        return Uni.createFrom().item(new Missed(List.of(), true)); // one node: its bus has no gaps
    }

    @Override
    public Uni<Snapshot> snapshot(String doc) {
        return Uni.createFrom().item(() -> {
            // the counter before the lookup: a document made after it has only events after it, which an
            // observer activated at this offset then receives rather than drops as already seen
            long now = sequence.get();
            MemoryDocument state = docs.get(doc);
            if (state == null) {
                return new Snapshot(List.of(), offset(now));
            }
            synchronized (state) {
                return new Snapshot(List.copyOf(state.members.values()), offset(state.seq));
            }
        });
    }

    @Override
    public Uni<Void> connected(String user) {
        return Uni.createFrom().item(() -> {
            users.connected(user);
            return null;
        });
    }

    @Override
    public Uni<Void> disconnected(String user) {
        return Uni.createFrom().item(() -> {
            users.disconnected(user);
            return null;
        });
    }

    private void announce(UserStatus status) {
        EngineListener l = listener;
        if (l != null) {
            l.onStatus(status);
        }
    }

    @Override
    public Uni<List<UserStatus>> status(List<String> userIds) {
        return Uni.createFrom().item(() -> users.status(userIds));
    }

    // ---- Log ------------------------------------------------------------------------------------

    @Override
    public Uni<String> broadcast(String doc, String origin, boolean echo, String prefix) {
        return Uni.createFrom().item(() -> {
            MemoryDocument state = doc(doc);
            synchronized (state) {
                return append(doc, state, origin, echo, prefix, null);
            }
        }).invoke(this::keepWithinMemory);
    }

    @Override
    public Uni<Replay> readAfter(String doc, String since, String until) {
        return Uni.createFrom().item(() -> {
            long now = sequence.get(); // before the lookup, as in snapshot
            MemoryDocument state = docs.get(doc); // a read makes nothing: any client may name any document
            if (state == null) {
                long from = seqOf(since);
                // read after the lookup: a sweep raises it before it forgets a document
                long forgotten = forgottenUpTo.get();
                return from >= forgotten && from <= now ? new Replay(true, List.of(), offset(now))
                        : Replay.notResumable(offset(now));
            }
            String last;
            List<Entry> entries = new ArrayList<>();
            synchronized (state) {
                last = offset(state.seq);
                long from = seqOf(since);
                if (from < state.base || from > state.seq) {
                    return Replay.notResumable(last);
                }
                long to = until == null ? Long.MAX_VALUE : seqOf(until);
                for (Entry e : state.log) {
                    if (e.seq() > from && e.seq() < to) {
                        entries.add(e);
                    }
                }
            }
            // joins are encoded again here, outside the lock: the document's events need not wait for a resume
            List<String> frames = new ArrayList<>(entries.size());
            for (Entry e : entries) {
                frames.add(e.frame(doc, offset(e.seq())));
            }
            return new Replay(true, frames, last);
        });
    }

    /** The sequence number of an offset of this run, or -1 when it is not one. */
    private long seqOf(String offset) {
        int dash = offset.indexOf('-');
        if (dash < 0 || !offset.substring(0, dash).equals(epoch)) {
            return -1;
        }
        try {
            return Long.parseLong(offset.substring(dash + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    // ---- Bus ------------------------------------------------------------------------------------

    @Override
    public void listen(EngineListener listener) {
        this.listener = listener;
    }

    @Override
    public Uni<Void> subscribe(String doc) {
        subscribed.put(doc, Boolean.TRUE);
        return Uni.createFrom().voidItem();
    }

    @Override
    public void unsubscribe(String doc) {
        subscribed.remove(doc);
    }

    @Override
    public Uni<Boolean> signal(String doc, String to, String frame) {
        return Uni.createFrom().item(() -> {
            MemoryDocument state = docs.get(doc);
            if (state == null) {
                return false;
            }
            synchronized (state) {
                if (!state.members.containsKey(to)) {
                    return false;
                }
                deliver(doc, new DocEvent(DocEvent.Kind.SIGNAL, null, null, to, frame));
                return true;
            }
        });
    }

    /** One process: nothing between the engine and its listener to drop an event. */
    @Override
    public boolean hasGaps() {
        return false;
    }

    @Override
    public Uni<Boolean> healthy() {
        return Uni.createFrom().item(Boolean.TRUE);
    }

    private record Head(long seq, MemoryDocument state) {
    }

    /**
     * Past the histories' memory, drops the oldest events of all documents (offsets are one sequence,
     * so the lowest is the oldest) until a tenth of it is free again; one thread at a time, holding
     * one document's lock at a time. A resume from before a dropped event gets {@code resumed: false}.
     */
    private void keepWithinMemory() {
        if (historyChars.get() <= historyMemory || !evicting.compareAndSet(false, true)) {
            return;
        }
        try {
            PriorityQueue<Head> heads = new PriorityQueue<>(Comparator.comparingLong(Head::seq));
            for (MemoryDocument state : docs.values()) {
                synchronized (state) {
                    if (!state.log.isEmpty()) {
                        heads.add(new Head(state.log.peekFirst().seq(), state));
                    }
                }
            }
            long target = historyMemory - historyMemory / 10;
            while (historyChars.get() > target && !heads.isEmpty()) {
                MemoryDocument state = heads.poll().state();
                synchronized (state) {
                    if (!state.log.isEmpty()) {
                        state.dropOldest();
                    }
                    if (!state.log.isEmpty()) {
                        heads.add(new Head(state.log.peekFirst().seq(), state));
                    }
                }
            }
        } finally {
            evicting.set(false);
        }
    }

    /** Forgets documents with no member whose history outlived the history TTL. */
    void sweep() {
        long cutoff = clock.millis() - historyTtl.toMillis();
        docs.forEach((doc, state) -> {
            synchronized (state) {
                if (state.members.isEmpty() && state.touchedAt < cutoff) {
                    // raised before the document goes: a read that finds it gone must not resume past it
                    forgottenUpTo.accumulateAndGet(state.seq, Math::max);
                    docs.remove(doc, state);
                    state.forget();
                }
            }
        });
    }
}
