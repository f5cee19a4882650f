package dev.copresence.engine.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

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
 * same document can never swap. When the connection ends, the node reconnects and subscribes again.
 */
final class RedisBus implements Bus {
    private static final Logger LOG = Logger.getLogger(RedisBus.class);

    private final Redis client;
    private final RedisScripts scripts;
    private final RedisSettings settings;
    private final Context context;
    private final Set<String> channels = ConcurrentHashMap.newKeySet();
    private volatile EngineListener listener;
    private volatile Uni<RedisConnection> connection;
    private volatile boolean stopped;

    RedisBus(Redis client, RedisScripts scripts, RedisSettings settings, Context context) {
        this.client = client;
        this.scripts = scripts;
        this.settings = settings;
        this.context = context;
        this.connection = connectOnce().memoize().indefinitely();
    }

    /** Also connects at once: the status channel must be heard before any document is subscribed. */
    @Override
    public void listen(EngineListener listener) {
        this.listener = listener;
        connection().subscribe().with(c -> {
        }, t -> LOG.warnf("Redis pub/sub not connected yet (%s); retrying on next use", t.getMessage()));
    }

    private Uni<RedisConnection> connectOnce() {
        return onContext(() -> client.connect())
                .invoke(c -> {
                    c.handler(this::onMessage);
                    c.exceptionHandler(t -> LOG.debugf("pub/sub connection error: %s", t.getMessage()));
                    c.endHandler(this::reconnect);
                })
                .call(c -> subscribeAll(c)
                        // a half-subscribed connection would keep hearing the status channel beside the next one
                        .onFailure().call(t -> c.close().onFailure().recoverWithNull()));
    }

    /**
     * The status channel, then every document's. Sharded channels go one to a command: documents live
     * in different slots, and one SSUBSCRIBE of several is refused (CROSSSLOT), so that a node on a
     * Redis Cluster never heard other nodes again after its first reconnect.
     */
    private Uni<Void> subscribeAll(RedisConnection c) {
        List<Uni<Response>> sent = new ArrayList<>();
        sent.add(c.send(Request.cmd(Command.SUBSCRIBE).arg(RedisKeys.STATUS_CHANNEL)));
        if (settings.sharded()) {
            channels.forEach(name -> sent.add(c.send(subscribing().arg(name))));
        } else if (!channels.isEmpty()) {
            Request all = subscribing();
            channels.forEach(all::arg);
            sent.add(c.send(all));
        }
        return Uni.join().all(sent).andFailFast().replaceWithVoid();
    }

    /** A (S)SUBSCRIBE of the document channels its arguments will name. */
    private Request subscribing() {
        return Request.cmd(Command.create(settings.subscribeCommand()));
    }

    /** Re-establishes the connection and every subscription; retried with back-off while Redis is away. */
    private void reconnect() {
        if (stopped) {
            return;
        }
        LOG.warn("Redis pub/sub connection ended; reconnecting and subscribing again");
        Uni<RedisConnection> next = Uni.createFrom().deferred(this::connectOnce)
                .onFailure(t -> !stopped).retry().withBackOff(Duration.ofMillis(100), Duration.ofSeconds(2)).indefinitely()
                .memoize().indefinitely();
        connection = next;
        next.subscribe().with(c -> {
                    LOG.info("Redis pub/sub connection restored; catching up and re-asserting local members");
                    resync();
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
        return Uni.createFrom().emitter(emitter -> context.runOnContext(v -> action.get()
                .subscribe().with(emitter::complete, emitter::fail)));
    }

    private void onMessage(Response message) {
        if (message == null || message.type() != ResponseType.PUSH && message.type() != ResponseType.MULTI
                || message.size() < 3) {
            return;
        }
        String kind = message.get(0).toString();
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
        return connection().chain(c -> onContext(() -> c.send(subscribing().arg(channel))))
                .ifNoItem().after(Duration.ofSeconds(3)).failWith(() -> new IllegalStateException("Redis pub/sub unavailable"))
                .replaceWithVoid();
    }

    @Override
    public void unsubscribe(String doc) {
        String channel = RedisKeys.events(doc);
        channels.remove(channel);
        connection().chain(c -> onContext(() -> c.send(Request.cmd(Command.create(settings.unsubscribeCommand())).arg(channel))))
                .subscribe().with(r -> {
                }, t -> LOG.debugf("unsubscribe %s failed: %s", channel, t.getMessage()));
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
        connection.subscribe().with(c -> c.close().subscribe().with(v -> {
        }, t -> {
        }), t -> {
        });
    }
}
