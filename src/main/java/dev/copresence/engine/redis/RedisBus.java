package dev.copresence.engine.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.jboss.logging.Logger;

import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.mutiny.redis.client.Command;
import io.vertx.mutiny.redis.client.Redis;
import io.vertx.mutiny.redis.client.RedisConnection;
import io.vertx.mutiny.redis.client.Request;
import io.vertx.mutiny.redis.client.Response;
import io.vertx.redis.client.ResponseType;

import dev.copresence.engine.Bus;
import dev.copresence.engine.DocEvent;
import dev.copresence.engine.EngineListener;
import dev.copresence.engine.UserStatus;
import dev.copresence.engine.redis.RedisScripts.Script;

/**
 * Fan-out between nodes over Redis pub/sub. One dedicated connection per node carries every
 * subscription: one channel per document that has local members, plus the status channel. (The
 * data-source API would open a connection per subscribe call.) Every command on that connection runs
 * on one Vert.x context, in the order it was asked for, so an unsubscribe and a re-subscribe of the
 * same document can never swap. When the connection ends or fails, or stops hearing ({@link Hearing}),
 * the node reconnects and subscribes again.
 */
final class RedisBus implements Bus {
    private static final Logger LOG = Logger.getLogger(RedisBus.class);
    /** How long Redis may take to confirm a subscription before the attempt counts as failed. */
    private static final Duration SUBSCRIBE_TIMEOUT = Duration.ofSeconds(3);
    /** The least time between two reconnections forced by unconfirmed subscriptions ({@link #onNextConnection}). */
    private static final Duration FORCED_RECONNECT_GAP = Duration.ofSeconds(30);

    private final Redis client;
    private final RedisScripts scripts;
    private final RedisSettings settings;
    private final Context context;
    private final Set<String> channels = ConcurrentHashMap.newKeySet();
    /** Sharded unsubscriptions sent and not yet answered, per channel: Redis also sends them on its own. */
    private final Map<String, Integer> unsubscribing = new ConcurrentHashMap<>();
    /** Subscriptions sent and not yet confirmed by Redis, per channel. */
    private final Map<String, List<CompletableFuture<Void>>> unconfirmed = new ConcurrentHashMap<>();
    private volatile EngineListener listener;
    private volatile Uni<RedisConnection> connection;
    /** The connection whose end starts a reconnection (null while none is fully subscribed). */
    private final AtomicReference<RedisConnection> live = new AtomicReference<>();
    /** When an unconfirmed subscription last forced a reconnection (System.nanoTime; 0: never). */
    private final AtomicLong lastForcedReconnect = new AtomicLong();
    /** Redis ended a needed subscription while no connection was live: the next one starts over. */
    private volatile boolean endAfterConnecting;
    private volatile boolean stopped;
    private final Hearing hearing = new Hearing();
    /** How often the node checks that it hears its pub/sub connection: the renew interval. */
    private final Duration hearingPeriod;
    private volatile long hearingTimer = -1;

    RedisBus(Redis client, RedisScripts scripts, RedisSettings settings, Context context, Duration hearingPeriod) {
        this.client = client;
        this.scripts = scripts;
        this.settings = settings;
        this.context = context;
        this.hearingPeriod = hearingPeriod;
        this.connection = connectOnce().memoize().indefinitely();
    }

    /** Also connects at once: the status channel must be heard before any document is subscribed. */
    @Override
    public void listen(EngineListener listener) {
        this.listener = listener;
        connection().subscribe().with(c -> {
        }, t -> LOG.warnf("Redis pub/sub not connected yet (%s); retrying on next use", t.getMessage()));
        hearingTimer = context.owner().setPeriodic(hearingPeriod.toMillis(), id -> checkHearing());
    }

    /** Ends a subscribed connection that no longer hears Redis, as if Redis had closed it. */
    private void checkHearing() {
        RedisConnection c = live.get();
        if (c == null || stopped || !hearing.deaf(c, System.nanoTime(), this::publishEcho)) {
            return;
        }
        LOG.warnf("Redis pub/sub connection heard nothing of an echo Redis took %d s or more ago, though Redis "
                + "answers commands; reconnecting", Hearing.DEAF_AFTER.toSeconds());
        ended(c);
    }

    private void publishEcho(String token) {
        // classic PUBLISH, as the echo channel is subscribed with the status channel (on a Cluster, any node relays it)
        scripts.command("PUBLISH", hearing.channel(), token)
                .ifNoItem().after(hearingPeriod).fail()
                .subscribe().with(r -> hearing.acknowledged(token, System.nanoTime()), t -> hearing.unanswered(token));
    }

    private Uni<RedisConnection> connectOnce() {
        return onContext(() -> client.connect())
                .call(c -> {
                    AtomicBoolean gone = new AtomicBoolean();
                    c.handler(this::onMessage);
                    // a part that ends while subscribing is noticed once the whole is live; the end of a
                    // failed attempt, closed below, starts nothing beside the retry under way
                    c.endHandler(() -> {
                        gone.set(true);
                        ended(c);
                    });
                    // A connection that fails (reset by Redis or a proxy, an unreadable reply) is closed by
                    // the client, which then calls only this handler, never the end handler: without this
                    // the node went on subscribing documents on a closed connection ("Connection is
                    // closed"), ready all the while, until a hearing check found it deaf seconds later.
                    // (The client also reports here a reply that found its command already answered,
                    // which leaves the connection open.)
                    c.exceptionHandler(t -> {
                        LOG.debugf("pub/sub connection failed: %s", t.getMessage());
                        if (!String.valueOf(t.getMessage()).startsWith("Result is already complete")) {
                            gone.set(true);
                            ended(c);
                        }
                    });
                    return subscribeAll(c)
                            // a half-subscribed connection would keep hearing the status channel beside the next one
                            .onFailure().call(t -> c.close().onFailure().recoverWithNull())
                            .invoke(() -> {
                                if (stopped) {
                                    closeQuietly(c);
                                    return;
                                }
                                live.set(c);
                                if (gone.get() || endAfterConnecting) {
                                    endAfterConnecting = false;
                                    ended(c);
                                }
                            });
                });
    }

    /**
     * The status channel, then every document's. Sharded channels go one to a command: documents live
     * in different slots, and one SSUBSCRIBE of several is refused (CROSSSLOT), so that a node on a
     * Redis Cluster never heard other nodes again after its first reconnect.
     */
    private Uni<Void> subscribeAll(RedisConnection c) {
        List<Uni<Void>> sent = new ArrayList<>();
        sent.add(subscribe(c, "SUBSCRIBE", List.of(RedisKeys.STATUS_CHANNEL, hearing.channel())));
        if (settings.sharded()) {
            channels.forEach(name -> sent.add(subscribe(c, settings.subscribeCommand(), List.of(name))));
        } else if (!channels.isEmpty()) {
            sent.add(subscribe(c, settings.subscribeCommand(), List.copyOf(channels)));
        }
        return Uni.join().all(sent).andFailFast().replaceWithVoid();
    }

    /**
     * Sends a (S)SUBSCRIBE and completes once Redis has confirmed every channel it names. The client
     * completes a pub/sub command as soon as it is written: a node would take that for "subscribed"
     * while Redis had not yet seen it (a joiner could miss what was published meanwhile), or had
     * refused it (NOAUTH, NOPERM, MOVED), which it never answers on this connection.
     */
    private Uni<Void> subscribe(RedisConnection c, String command, List<String> names) {
        List<CompletableFuture<Void>> confirmations = new ArrayList<>(names.size());
        Request request = Request.cmd(Command.create(command));
        for (String name : names) {
            CompletableFuture<Void> confirmed = new CompletableFuture<>();
            unconfirmed.computeIfAbsent(name, k -> new CopyOnWriteArrayList<>()).add(confirmed);
            confirmations.add(confirmed);
            request.arg(name);
        }
        return onContext(() -> c.send(request))
                .chain(() -> Uni.createFrom().completionStage(CompletableFuture.allOf(confirmations.toArray(CompletableFuture[]::new))))
                .ifNoItem().after(SUBSCRIBE_TIMEOUT)
                .failWith(() -> new Unconfirmed(names))
                .onFailure().invoke(() -> {
                    for (int i = 0; i < names.size(); i++) {
                        CompletableFuture<Void> confirmed = confirmations.get(i);
                        unconfirmed.computeIfPresent(names.get(i), (k, waiting) -> {
                            waiting.remove(confirmed);
                            return waiting.isEmpty() ? null : waiting;
                        });
                    }
                })
                .replaceWithVoid();
    }

    /**
     * One reconnection per connection, whichever of its parts ended: on a Redis Cluster the connection
     * is one per master, each reporting its own end, and the others, still open, would keep delivering
     * every event beside the next connection, so they are closed.
     */
    private void ended(RedisConnection c) {
        if (live.compareAndSet(c, null)) {
            unsubscribing.clear(); // a dead connection answers nothing more
            closeQuietly(c);
            reconnect();
        }
    }

    private static void closeQuietly(RedisConnection c) {
        c.close().subscribe().with(v -> {
        }, t -> LOG.debugf("closing a pub/sub connection: %s", t.getMessage()));
    }

    /** Re-establishes the connection and every subscription; retried with back-off while Redis is away. */
    private void reconnect() {
        if (stopped) {
            return;
        }
        LOG.warn("Redis pub/sub connection ended; reconnecting and subscribing again");
        EngineListener l = listener;
        if (l != null) {
            l.onGap();
        }
        Uni<RedisConnection> next = Uni.createFrom().deferred(this::connectOnce)
                .onFailure(t -> !stopped).retry().withBackOff(Duration.ofMillis(100), Duration.ofSeconds(2)).indefinitely()
                .memoize().indefinitely();
        connection = next;
        next.subscribe().with(c -> {
                    if (connection == next) { // not when it ended while subscribing: the next one resyncs
                        LOG.info("Redis pub/sub connection restored; catching up and re-asserting local members");
                        resync();
                    }
                }, t -> LOG.error("pub/sub", t));
    }

    /** Tells the node that events may have been missed and Redis may have lost its data. */
    void resync() {
        EngineListener l = listener;
        if (l != null && !stopped) {
            l.onResync();
        }
    }

    private <T> Uni<T> onContext(java.util.function.Supplier<Uni<T>> action) {
        return Uni.createFrom().emitter(emitter -> context.runOnContext(v -> {
            Uni<T> started;
            try {
                started = action.get();
            } catch (RuntimeException e) {
                emitter.fail(e); // not thrown into Vert.x, where nobody waiting would hear of it
                return;
            }
            started.subscribe().with(emitter::complete, emitter::fail);
        }));
    }

    private void onMessage(Response message) {
        if (message == null || message.type() != ResponseType.PUSH && message.type() != ResponseType.MULTI
                || message.size() < 3) {
            return;
        }
        String kind = message.get(0).toString();
        if ("sunsubscribe".equals(kind)) {
            String channel = message.get(1).toString();
            if (!answersOwnUnsubscribe(channel) && channels.contains(channel)) {
                // not one the node asked for: Redis dropped a subscription still needed (its slot moved)
                LOG.warnf("Redis ended the subscription to %s; subscribing again", channel);
                RedisConnection c = live.get();
                if (c != null) {
                    ended(c);
                } else {
                    endAfterConnecting = true; // the connection under way may have subscribed before the move
                }
            }
            return;
        }
        if ("subscribe".equals(kind) || "ssubscribe".equals(kind)) {
            List<CompletableFuture<Void>> waiting = unconfirmed.remove(message.get(1).toString());
            if (waiting != null) {
                waiting.forEach(confirmed -> confirmed.complete(null));
            }
            return;
        }
        if (!"message".equals(kind) && !"smessage".equals(kind)) {
            return;
        }
        EngineListener l = listener;
        if (l == null) {
            return;
        }
        String channel = message.get(1).toString();
        String payload = message.get(2).toString();
        try {
            if (RedisKeys.STATUS_CHANNEL.equals(channel)) {
                l.onStatus(parseStatus(payload));
            } else if (hearing.channel().equals(channel)) {
                hearing.heard(payload);
            } else {
                l.onDocEvent(RedisKeys.docOfChannel(channel), DocEvent.fromWire(payload));
            }
        } catch (RuntimeException e) {
            LOG.errorf(e, "dropping an unreadable message on %s", channel);
        }
    }

    /** {@code "<user> <1|0> <lastSeen|->"}, as connected.lua and disconnected.lua publish it. */
    private static UserStatus parseStatus(String payload) {
        String[] parts = payload.split(" ", 3);
        return new UserStatus(parts[0], "1".equals(parts[1]), "-".equals(parts[2]) ? null : Long.valueOf(parts[2]));
    }

    /**
     * The connection fully subscribed now. Read here rather than taken from the item of
     * {@link #connection()}: that item was seen to arrive null (in TwoNodesOnOneRedisTest, once in a
     * few runs) to a subscriber that joined the memoized connection while it subscribed.
     */
    private RedisConnection liveConnection() {
        RedisConnection c = live.get();
        if (c == null) {
            throw new IllegalStateException("Redis pub/sub is reconnecting");
        }
        return c;
    }

    /** The current connection; after a failed attempt, the next caller tries again. */
    private Uni<RedisConnection> connection() {
        Uni<RedisConnection> current = connection;
        return current.onFailure().recoverWithUni(t -> {
            if (connection == current && !stopped) {
                connection = connectOnce().memoize().indefinitely();
            }
            return Uni.createFrom().failure(t);
        });
    }

    @Override
    public Uni<Void> subscribe(String doc) {
        String channel = RedisKeys.events(doc);
        channels.add(channel);
        return connection()
                .ifNoItem().after(SUBSCRIBE_TIMEOUT).failWith(() -> new IllegalStateException("Redis pub/sub unavailable"))
                .chain(connected -> {
                    RedisConnection c = liveConnection();
                    return subscribe(c, settings.subscribeCommand(), List.of(channel))
                            .onFailure(Unconfirmed.class).recoverWithUni(t -> onNextConnection(c, t));
                });
    }

    /**
     * Redis did not confirm a sharded subscription on a connection that is up. On a Redis Cluster that
     * is how a document on a master the connection did not know when it opened (the cluster scaled
     * out) looks: the client opens a connection to that master with none of the node's handlers, so
     * that whatever it subscribes there is heard by nobody, for good. A new connection knows every
     * master and subscribes every channel, this one included; the subscription is done once it is up.
     * Redis slow to answer, or refusing one channel (an ACL), looks the same; a reconnection makes
     * the node catch up on all its documents, so it is forced at most once per
     * {@link #FORCED_RECONNECT_GAP}, and otherwise the subscription fails (the next join tries again).
     */
    private Uni<Void> onNextConnection(RedisConnection c, Throwable unconfirmed) {
        long now = System.nanoTime();
        long last = lastForcedReconnect.get();
        boolean force = settings.sharded() && live.get() == c
                && (last == 0 || now - last >= FORCED_RECONNECT_GAP.toNanos()) && lastForcedReconnect.compareAndSet(last, now);
        if (!force) {
            return Uni.createFrom().failure(unconfirmed);
        }
        LOG.warnf("%s on a live pub/sub connection (a master it does not know?); reconnecting", unconfirmed.getMessage());
        ended(c);
        return connection()
                .ifNoItem().after(SUBSCRIBE_TIMEOUT.multipliedBy(2)).failWith(() -> unconfirmed)
                .replaceWithVoid();
    }

    /** A subscription Redis did not confirm in time. */
    private static final class Unconfirmed extends IllegalStateException {
        Unconfirmed(List<String> names) {
            super("Redis did not confirm the subscription to " + names);
        }
    }

    /** True when the node asked for this sharded unsubscription (and counts its answer). */
    private boolean answersOwnUnsubscribe(String channel) {
        boolean[] own = new boolean[1];
        unsubscribing.computeIfPresent(channel, (k, n) -> {
            own[0] = true;
            return n == 1 ? null : n - 1;
        });
        return own[0];
    }

    @Override
    public void unsubscribe(String doc) {
        String channel = RedisKeys.events(doc);
        channels.remove(channel);
        if (settings.sharded()) {
            unsubscribing.merge(channel, 1, Integer::sum);
        }
        connection().chain(connected -> {
            RedisConnection c = liveConnection();
            return onContext(() -> c.send(Request.cmd(Command.create(settings.unsubscribeCommand())).arg(channel)));
        })
                .subscribe().with(r -> {
                }, t -> {
                    LOG.debugf("unsubscribe %s failed: %s", channel, t.getMessage());
                    answersOwnUnsubscribe(channel);
                });
    }

    @Override
    public Uni<Boolean> signal(String doc, String to, String frame) {
        return scripts.run(Script.SIGNAL, List.of(RedisKeys.members(doc)),
                List.of(settings.publishCommand(), RedisKeys.events(doc), to,
                        new DocEvent(DocEvent.Kind.SIGNAL, null, null, to, frame).toWire()))
                .map(r -> r.toInteger() == 1);
    }

    /** Healthy when Redis answers a command and the subscription connection is up. */
    @Override
    public Uni<Boolean> healthy() {
        return scripts.command("PING")
                .chain(() -> connection())
                .replaceWith(Boolean.TRUE)
                .ifNoItem().after(Duration.ofSeconds(2)).fail()
                .onFailure().recoverWithItem(Boolean.FALSE);
    }

    @Override
    public void close() {
        stopped = true;
        if (hearingTimer >= 0) {
            context.owner().cancelTimer(hearingTimer);
        }
        RedisConnection c = live.getAndSet(null);
        if (c != null) {
            closeQuietly(c);
        }
    }
}
