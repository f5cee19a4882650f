package dev.copresence.engine.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.TimeoutException;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.redis.client.Response;

import io.quarkus.redis.datasource.ReactiveRedisDataSource;

import dev.copresence.engine.OutcomeUnknown;
import dev.copresence.protocol.Codec;

/**
 * The Lua scripts of {@code src/main/resources/redis}, run with EVALSHA. A Redis that does not know a
 * script (restarted, or a new Cluster shard) answers NOSCRIPT; then the script is sent whole with
 * EVAL, which also caches it there for the next call.
 */
final class RedisScripts {
    /**
     * Each script with how long it may wait for Redis's answer: {@link #ANSWER_TIMEOUT}, but for the
     * reads that may be long (a large document's members, its history, a catch-up), which wait
     * {@link #READ_TIMEOUT}. The node's periodic work (renewals, leases, reaping) is bounded short
     * too: it runs one pass at a time, and a pass held up by a Redis (or a Cluster master) that hangs
     * must not outlast the presence TTL.
     */
    enum Script {
        JOIN("join", ANSWER_TIMEOUT), LEAVE("leave", ANSWER_TIMEOUT), STORE("store", ANSWER_TIMEOUT),
        BROADCAST("broadcast", ANSWER_TIMEOUT), SIGNAL("signal", ANSWER_TIMEOUT), CONNECTED("connected", ANSWER_TIMEOUT),
        DISCONNECTED("disconnected", ANSWER_TIMEOUT), STATUS("status", ANSWER_TIMEOUT), RENEW("renew", ANSWER_TIMEOUT),
        REAP("reap", ANSWER_TIMEOUT), REASSERT("reassert", ANSWER_TIMEOUT), NODE_GONE("node-gone", ANSWER_TIMEOUT),
        REASSERT_USER("reassert-user", ANSWER_TIMEOUT), NODE_DOCS("node-docs", ANSWER_TIMEOUT), NODES("nodes", ANSWER_TIMEOUT),
        NODE_REAPED("node-reaped", ANSWER_TIMEOUT),
        REPLAY("replay", READ_TIMEOUT), SNAPSHOT("snapshot", READ_TIMEOUT), CATCH_UP("catch-up", READ_TIMEOUT);

        final String source;
        final String sha;
        final String name;
        final Duration timeout;

        Script(String name, Duration timeout) {
            this.name = name;
            this.source = load("redis/" + name + ".lua");
            this.sha = sha1(source);
            this.timeout = timeout;
        }
    }

    /**
     * How long a client's message may wait for Redis's answer (the clock runs from the call, so a wait
     * for a pooled connection counts). Without a bound, a Redis that hangs (stopped, or its host gone
     * without a reset) held every message that needs it, and every message of the same connection
     * after it (a ping too), until it answered again, if ever. What timed out may still be done once
     * Redis answers: the client was told {@code internal}, as for any failure.
     */
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(3);
    /** The same for the reads that may be long: as long as a catch-up's try. */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(10);

    /** Redis did not answer in time (a Mutiny timeout, as the catch-up's own). */
    static final class NoAnswer extends TimeoutException implements OutcomeUnknown {
        private static final long serialVersionUID = 1L;
        private final String what;
        private final Duration timeout;

        NoAnswer(String what, Duration timeout) {
            this.what = what;
            this.timeout = timeout;
        }

        @Override
        public String getMessage() {
            return "Redis did not answer " + what + " within " + timeout.toSeconds() + " s";
        }
    }

    /**
     * The connection that carried a command ended before its answer came (Redis closed it, or it was
     * reset): Redis may have run the command. Not a timeout: {@code Hubs.catchUp} takes a timeout
     * for a Redis that hangs and stops retrying, where a lost connection is worth another try.
     */
    static final class ConnectionLost extends RuntimeException implements OutcomeUnknown {
        private static final long serialVersionUID = 1L;

        ConnectionLost(String what, Throwable cause) {
            super("the connection to Redis ended before it answered " + what + " (" + cause.getMessage() + ")", cause);
        }
    }

    private final ReactiveRedisDataSource redis;
    private final MeterRegistry metrics;

    RedisScripts(ReactiveRedisDataSource redis, MeterRegistry metrics) {
        this.redis = redis;
        this.metrics = metrics;
    }

    /** A plain command, which a client's message may wait for: bounded as those scripts are. */
    Uni<Response> command(String command, String... args) {
        return redis.execute(command, args)
                .onFailure(RedisScripts::endedWithItsConnection).transform(t -> new ConnectionLost(command, t))
                .ifNoItem().after(ANSWER_TIMEOUT).failWith(() -> new NoAnswer(command, ANSWER_TIMEOUT));
    }

    Uni<Response> run(Script script, List<String> keys, List<String> args) {
        return Uni.createFrom().deferred(() -> {
            long start = System.nanoTime();
            return call("EVALSHA", script.sha, keys, args)
                    .onFailure(RedisScripts::isNoScript)
                    .recoverWithUni(() -> call("EVAL", script.source, keys, args))
                    .onFailure(RedisScripts::endedWithItsConnection).transform(t -> new ConnectionLost(script.name + ".lua", t))
                    .ifNoItem().after(script.timeout).failWith(() -> new NoAnswer(script.name + ".lua", script.timeout))
                    .onItemOrFailure().invoke((ok, failure) -> {
                        metrics.timer("copresence.redis.commands", "script", script.name).record(System.nanoTime() - start,
                                TimeUnit.NANOSECONDS);
                        if (failure != null && (failure.getMessage() == null || !failure.getMessage().contains("DOC_FULL"))) {
                            metrics.counter("copresence.redis.errors", "script", script.name).increment();
                        }
                    });
        });
    }

    private Uni<Response> call(String command, String script, List<String> keys, List<String> args) {
        List<String> all = new ArrayList<>(2 + keys.size() + args.size());
        all.add(script);
        all.add(Integer.toString(keys.size()));
        all.addAll(keys);
        for (String arg : args) {
            // frames and records are JSON, whose lone surrogates Redis would otherwise get as '?'
            all.add(Codec.escapeLoneSurrogates(arg));
        }
        return redis.execute(command, all.toArray(String[]::new));
    }

    /**
     * A failure that ended a command Redis may have had: its connection closed or was reset while the
     * command waited for its answer. A connection that could not be made carried no command, and an
     * error reply is Redis's refusal; both say the command was not run. (A connection that opened and
     * dropped during its handshake fails the same way as one that dropped later, so it counts too.)
     */
    static boolean endedWithItsConnection(Throwable t) {
        if ("CONNECTION_CLOSED".equals(t.getMessage())) { // the Vert.x client's failure of what waited on a closed connection
            return true;
        }
        return t instanceof IOException && !(t instanceof ConnectException) && !(t instanceof UnknownHostException);
    }

    private static boolean isNoScript(Throwable t) {
        return t.getMessage() != null && t.getMessage().startsWith("NOSCRIPT");
    }

    private static String load(String resource) {
        try (InputStream in = RedisScripts.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
