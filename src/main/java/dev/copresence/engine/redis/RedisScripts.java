package dev.copresence.engine.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
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

/**
 * The Lua scripts of {@code src/main/resources/redis}, run with EVALSHA. A Redis that does not know a
 * script (restarted, or a new Cluster shard) answers NOSCRIPT; then the script is sent whole with
 * EVAL, which also caches it there for the next call.
 */
final class RedisScripts {
    enum Script {
        JOIN("join"), LEAVE("leave"), STORE("store"), BROADCAST("broadcast"), REPLAY("replay"),
        SNAPSHOT("snapshot"), RENEW("renew"), REAP("reap"), REASSERT("reassert"), SIGNAL("signal"),
        CONNECTED("connected"), DISCONNECTED("disconnected"), STATUS("status"), NODE_GONE("node-gone"),
        REASSERT_USER("reassert-user"), NODE_DOCS("node-docs"), NODES("nodes"),
        NODE_REAPED("node-reaped"), CATCH_UP("catch-up"), LEAVE_AGAIN("leave-again");

        final String source;
        final String sha;
        final String name;

        Script(String name) {
            this.name = name;
            this.source = load("redis/" + name + ".lua");
            this.sha = sha1(source);
        }
    }

    /**
     * How long a script may wait for Redis's answer. Without a bound, a Redis that hangs (stopped, or
     * its host gone without a reset) held every message that needs it, and every message of the same
     * connection after it (a ping too), until it answered again, if ever. What timed out may still be
     * done once Redis answers: the client was told {@code internal}, as for any failure.
     */
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(3);

    /** Redis did not answer a script in time (a Mutiny timeout, as the catch-up's own). */
    static final class NoAnswer extends TimeoutException {
        private static final long serialVersionUID = 1L;
        private final String script;

        NoAnswer(String script) {
            this.script = script;
        }

        @Override
        public String getMessage() {
            return "Redis did not answer " + script + ".lua within " + ANSWER_TIMEOUT.toSeconds() + " s";
        }
    }

    private final ReactiveRedisDataSource redis;
    private final MeterRegistry metrics;

    RedisScripts(ReactiveRedisDataSource redis, MeterRegistry metrics) {
        this.redis = redis;
        this.metrics = metrics;
    }

    Uni<Response> command(String command, String... args) {
        return redis.execute(command, args);
    }

    Uni<Response> run(Script script, List<String> keys, List<String> args) {
        return Uni.createFrom().deferred(() -> {
            long start = System.nanoTime();
            return call("EVALSHA", script.sha, keys, args)
                    .onFailure(RedisScripts::isNoScript)
                    .recoverWithUni(() -> call("EVAL", script.source, keys, args))
                    .ifNoItem().after(ANSWER_TIMEOUT).failWith(() -> new NoAnswer(script.name))
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
        all.addAll(args);
        return redis.execute(command, all.toArray(String[]::new));
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
