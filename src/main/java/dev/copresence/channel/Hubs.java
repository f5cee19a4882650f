package dev.copresence.channel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.event.Event;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.Startup;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.TimeoutException;
import io.smallrye.mutiny.Uni;

import dev.copresence.engine.Bus;
import dev.copresence.engine.DocEvent;
import dev.copresence.engine.Engine;
import dev.copresence.engine.EngineListener;
import dev.copresence.engine.Log;
import dev.copresence.engine.Snapshot;
import dev.copresence.engine.Registry;
import dev.copresence.engine.UserStatus;
import dev.copresence.protocol.Member;

/**
 * This node's side of the fan-out: the document hubs that have local members (online status goes to
 * {@link StatusWatchers}). A hub exists, and its document is subscribed on the bus, exactly while it has
 * members (or a join in flight) or read-only observers; hub creation and removal run inside the map's per-key lock, so a
 * subscribe and an unsubscribe of one document are always issued in the order of the hub's life.
 */
@Singleton
@Startup
public final class Hubs implements EngineListener {
    private static final Logger LOG = Logger.getLogger(Hubs.class);
    /** A catch-up read that takes longer fails (and is tried again), so that live events do not wait for good. */
    private static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(10);
    /** Tries after the first of a catch-up read that failed or timed out, before its readers are ended. */
    private static final int CATCH_UP_RETRIES = 2;
    private static final Duration RETRY_FIRST_BACKOFF = Duration.ofMillis(500);
    private static final Duration RETRY_MAX_BACKOFF = Duration.ofSeconds(2);

    private final Bus bus;
    private final Registry registry;
    private final Map<String, DocumentHub> hubs = new ConcurrentHashMap<>();
    /** Bus gaps so far: a catch-up ends the holding only if no gap began after it started. */
    private final AtomicLong gaps = new AtomicLong();
    private final StatusWatchers statusWatchers;

    private final Event<Resync> resync;

    private final Timer fanout;
    private final Counter lostEvents;
    private final Duration catchUpTimeout;

    @Inject
    public Hubs(Engine engine, StatusWatchers statusWatchers, Event<Resync> resync, MeterRegistry registry) {
        this(engine, statusWatchers, resync, registry, CATCH_UP_TIMEOUT);
    }

    /** With a shorter catch-up timeout, for a test of a Redis that hangs. */
    Hubs(Engine engine, StatusWatchers statusWatchers, Event<Resync> resync, MeterRegistry registry, Duration catchUpTimeout) {
        this.catchUpTimeout = catchUpTimeout;
        this.bus = engine.bus();
        this.registry = engine.registry();
        this.statusWatchers = statusWatchers;
        this.resync = resync;
        this.fanout = Timer.builder("copresence.fanout").description("Time to hand one event to every local member's queue")
                .publishPercentiles(0.5, 0.99).register(registry);
        this.lostEvents = Counter.builder("copresence.catchup.incomplete")
                .description("Catch-ups after a bus gap that could not read every missed event: the document's readers resumed")
                .register(registry);
    }

    @PostConstruct
    void listen() {
        bus.listen(this);
    }

    /**
     * The engine asks for a resync: {@link Upkeep} catches up and re-asserts members.
     *
     * @param gap the bus gaps so far when it was asked for: a gap after that is not this resync's to end
     */
    public record Resync(long gap) {
    }

    @Override
    public void onResync() {
        resync.fireAsync(new Resync(gaps.get()));
    }

    /**
     * Every hub reads the durable events it missed from the log (it drops those it already has), while
     * the bus's live ones wait behind them.
     */
    Uni<Void> catchUp(Log log, long gap) {
        BooleanSupplier noGapSince = () -> gaps.get() == gap;
        // once one document's reads have timed out every try, the documents after it try once: a Redis
        // that hangs would otherwise hold each batch of documents' live events three times as long
        AtomicBoolean hanging = new AtomicBoolean();
        return Multi.createFrom().iterable(List.copyOf(hubs.values()))
                .onItem().transformToUni(hub -> catchUp(hub, log, noGapSince, hanging)).merge(8)
                .collect().last().replaceWithVoid();
    }

    private Uni<Void> catchUp(DocumentHub hub, Log log, BooleanSupplier noGapSince, AtomicBoolean hanging) {
        hub.hold();
        DocumentHub.CatchUpFrom from = hub.catchUpFrom();
        return Uni.createFrom().deferred(() -> log.eventsAfter(hub.doc, from.offset(), from.all()))
                .ifNoItem().after(catchUpTimeout).fail()
                // a failover or a pool still reconnecting is not a loss: readers are ended after the last try only
                .onFailure(t -> !hanging.get()).retry().withBackOff(RETRY_FIRST_BACKOFF, RETRY_MAX_BACKOFF).atMost(CATCH_UP_RETRIES)
                .chain(missed -> {
                    if (!missed.whole()) {
                        LOG.warnf("catching up on %s: the log no longer holds every event after %s; its readers resume",
                                hub.doc, from.offset());
                        lostEvents.increment();
                        hub.lost();
                    }
                    return hub.release(missed.events(), noGapSince) ? Uni.createFrom().voidItem()
                            : catchUp(hub, log, noGapSince, hanging);
                })
                .onFailure().invoke(t -> {
                    Throwable cause = rootCause(t); // past the retries, Mutiny's "retries exhausted" wraps it
                    if (cause instanceof TimeoutException) {
                        hanging.set(true);
                    }
                    if (noGapSince.getAsBoolean()) { // else a newer gap's catch-up reads again
                        LOG.warnf("catching up on %s failed (%s): its readers resume", hub.doc, cause.toString());
                        lostEvents.increment();
                    }
                    hub.abandon(noGapSince);
                })
                .onFailure().recoverWithNull();
    }

    private static Throwable rootCause(Throwable t) {
        Throwable cause = t;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause;
    }

    /**
     * The bus stopped hearing other nodes: durable events wait until the catch-up that follows. A
     * catch-up still under way for an earlier gap then leaves the holding to this gap's own.
     */
    @Override
    public void onGap() {
        gaps.incrementAndGet();
        hubs.values().forEach(DocumentHub::hold);
    }

    /** The current members held here for the given ids (those still held). */
    List<Member> members(String doc, List<String> ids) {
        DocumentHub hub = hubs.get(doc);
        List<Member> result = new ArrayList<>();
        if (hub != null) {
            for (String id : ids) {
                LocalMember local = hub.members.get(id);
                if (local != null) {
                    result.add(local.member);
                }
            }
        }
        return result;
    }

    @Override
    public void onDocEvent(String doc, DocEvent event) {
        DocumentHub hub = hubs.get(doc);
        if (hub != null) {
            long start = System.nanoTime();
            hub.deliver(event);
            fanout.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * The id string of {@code doc}'s hub, when this node has one: the members of a document then keep
     * one copy of its id between them rather than one each (an idle member's few dozen bytes).
     */
    String sharedId(String doc) {
        DocumentHub hub = hubOf(doc);
        return hub == null ? doc : hub.doc;
    }

    /** The document's hub on this node, or null when no member of it is here. */
    DocumentHub hubOf(String doc) {
        return hubs.get(doc);
    }

    /**
     * Reads members a reader here is shown as it opens (a join's member list, an event stream's
     * {@code members}), the hub noting the changes passed on meanwhile: from then on it knows what the
     * reader was shown, and after a gap passes on only what changed ({@link #passOnMissed}).
     */
    public Uni<Snapshot> readShown(String doc, Supplier<Uni<Snapshot>> read) {
        DocumentHub hub = hubs.get(doc);
        return hub == null ? read.get() : whileNoting(hub, read, hub::shown);
    }

    /**
     * A reader here opened without a member list (an event stream that resumed from its
     * {@code Last-Event-ID}): unless a reader here was shown the members already, the hub reads them
     * once, as if shown, so that after a gap it passes on what changed of members that joined before
     * it existed ({@link #passOnMissed} skips members it does not know).
     */
    public void learnMembers(String doc) {
        DocumentHub hub = hubs.get(doc);
        if (hub == null || !hub.claimMembersRead()) {
            return;
        }
        whileNoting(hub, () -> registry.snapshot(doc), hub::shown).subscribe().with(snapshot -> {
        }, failure -> {
            hub.membersReadFailed(); // the next reader that resumes tries again
            LOG.debugf("reading the members of %s for a resumed reader: %s", doc, failure.getMessage());
        });
    }

    /**
     * After a gap, the document's members as the registry holds them now, to its readers here: an update
     * or a typing change published while this node could not hear is in no log (DocumentHub.passOnMissed).
     */
    Uni<Void> passOnMissed(String doc) {
        DocumentHub hub = hubs.get(doc);
        return hub == null ? Uni.createFrom().voidItem()
                : whileNoting(hub, () -> registry.snapshot(doc), hub::passOnMissed).replaceWithVoid();
    }

    /** Reads the members while the hub notes the changes passed on, and hands both to {@code use}. */
    private static Uni<Snapshot> whileNoting(DocumentHub hub, Supplier<Uni<Snapshot>> read,
            BiConsumer<List<Member>, Announced.Noting> use) {
        Announced.Noting noting = hub.noteChanges();
        return read.get()
                .invoke(snapshot -> use.accept(snapshot.members(), noting))
                .onTermination().invoke(() -> hub.stopNoting(noting));
    }

    /** Adds a (pending) member; the item arrives once the document's events are sure to reach it. */
    Uni<Void> attach(LocalMember member) {
        DocumentHub hub = hubs.compute(member.doc, (doc, existing) -> {
            DocumentHub h = existing;
            if (h == null) {
                h = new DocumentHub(doc, bus.hasGaps());
                h.subscribed(subscribe(doc));
            }
            h.members.put(member.id(), member);
            return h;
        });
        return hub.subscribed().onFailure().invoke(t -> resubscribeLater(hub));
    }

    /** The document's events subscribed, and the document in this node's set (the one reaped if it dies). */
    private Uni<Void> subscribe(String doc) {
        Uni<Void> ready = Uni.combine().all().unis(bus.subscribe(doc), registry.serving(doc)).discardItems()
                .memoize().indefinitely();
        ready.subscribe().with(ok -> {
        }, failure -> {
        });
        return ready;
    }

    /** A failed subscription is not cached: the next join of the document tries again. */
    private void resubscribeLater(DocumentHub failed) {
        hubs.computeIfPresent(failed.doc, (doc, hub) -> {
            if (hub == failed) {
                hub.subscribed(subscribe(doc));
            }
            return hub;
        });
    }

    /** Removes a member; the last one out unsubscribes the document. */
    void detach(LocalMember member) {
        hubs.computeIfPresent(member.doc, (doc, hub) -> {
            hub.members.remove(member.id(), member);
            if (hub.unused()) {
                bus.unsubscribe(doc);
                return null;
            }
            return hub;
        });
    }

    /**
     * Adds a read-only observer of its document, pending until it is {@link Observer#activate}d; the
     * item arrives once the document's events are sure to reach it (read the snapshot or log after).
     */
    public Uni<Void> observe(Observer observer) {
        DocumentHub hub = hubs.compute(observer.doc, (doc, existing) -> {
            DocumentHub h = existing;
            if (h == null) {
                h = new DocumentHub(doc, bus.hasGaps());
                h.subscribed(subscribe(doc));
            }
            h.observers.add(observer);
            return h;
        });
        return hub.subscribed().onFailure().invoke(t -> resubscribeLater(hub));
    }

    /** Read-only observers (event streams, long polls) held by this node. */
    public int observers() {
        int n = 0;
        for (DocumentHub hub : hubs.values()) {
            n += hub.observers.size();
        }
        return n;
    }

    /** Removes an observer; the last one out (members included) unsubscribes the document. */
    public void unobserve(Observer observer) {
        observer.close();
        hubs.computeIfPresent(observer.doc, (doc, hub) -> {
            hub.observers.remove(observer);
            if (hub.unused()) {
                bus.unsubscribe(doc);
                return null;
            }
            return hub;
        });
    }

    /** The local members of every document, for renewal. */
    public Map<String, List<String>> localMembers() {
        Map<String, List<String>> result = new ConcurrentHashMap<>();
        hubs.forEach((doc, hub) -> {
            List<String> ids = new ArrayList<>();
            hub.members.forEach((id, member) -> {
                if (member.active()) {
                    ids.add(id);
                }
            });
            if (!ids.isEmpty()) {
                result.put(doc, ids);
            }
        });
        return result;
    }

    /** Every document this node serves: with members, joins under way or readers. */
    public Set<String> documentIds() {
        return Set.copyOf(hubs.keySet());
    }

    public int documents() {
        return hubs.size();
    }

    public int members() {
        int n = 0;
        for (DocumentHub hub : hubs.values()) {
            n += hub.members.size();
        }
        return n;
    }

    @Override
    public void onStatus(UserStatus status) {
        statusWatchers.onStatus(status);
    }
}
