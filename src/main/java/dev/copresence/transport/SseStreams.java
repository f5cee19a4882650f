package dev.copresence.transport;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;

import dev.copresence.config.CopresenceConfig;
import dev.copresence.protocol.ErrorCode;
import dev.copresence.security.Access;
import dev.copresence.security.HttpGuard;

/**
 * What every event stream route ({@link SseDocuments}, {@link SseStatus}) needs before it has a stream
 * of its own: the request's checks, and a stream opened with the node's limits. The routes then know
 * only what they stream. It also keeps the open streams' heartbeats: one timer for the node checks
 * them all, where a timer per stream made 1,000 timer callbacks a second at 5,000 streams (with the
 * default 15 s period), and a timer's objects per stream.
 */
@Singleton
public final class SseStreams {
    private final Access access;
    private final Vertx vertx;
    private final CopresenceConfig config;
    private final Set<SseStream> open = ConcurrentHashMap.newKeySet();
    /** The node drains: open streams are ended, new ones get a closed connection, so that readers go to another node. */
    private volatile boolean ending;
    private final long quietNanos;
    private final long heartbeatTimer;

    public SseStreams(Access access, Vertx vertx, CopresenceConfig config) {
        this.access = access;
        this.vertx = vertx;
        this.config = config;
        long periodMillis = Math.max(1, config.sse().heartbeat().toMillis());
        this.quietNanos = TimeUnit.MILLISECONDS.toNanos(quietMillis(periodMillis));
        this.heartbeatTimer = vertx.setPeriodic(checkEveryMillis(periodMillis), id -> heartbeats());
    }

    /**
     * How often the streams are checked for a heartbeat: three times a heartbeat period. With
     * {@link #quietMillis} that keeps every silence of a stream under one period, whenever its last
     * write fell (a proxy's idle limit is what the period is for), while a stream that carries events
     * is written no comment at all and a quiet one is written one every two thirds of a period.
     */
    static long checkEveryMillis(long periodMillis) {
        return Math.max(1, periodMillis / 3);
    }

    /** How long a stream must have been written nothing for a check to send it a heartbeat. */
    static long quietMillis(long periodMillis) {
        return Math.max(0, periodMillis - checkEveryMillis(periodMillis));
    }

    /** Dev mode keeps Vert.x across restarts: the timer must not keep an old application's streams. */
    @PreDestroy
    void stop() {
        vertx.cancelTimer(heartbeatTimer);
    }

    /**
     * Each quiet stream gets a comment, and each whose token expired ends (within a check, a third of
     * the heartbeat period); offering is thread-safe, each stream writes on its own event loop.
     */
    private void heartbeats() {
        long now = System.currentTimeMillis();
        for (SseStream stream : open) {
            stream.check(now, quietNanos);
        }
    }

    /**
     * The origin and token checks (HttpGuard's, which JAX-RS does not run for these plain routes): a
     * refusal is answered here.
     */
    HttpGuard.Verdict admit(HttpServerRequest request, String path) {
        if (ending) {
            // not a 503: an EventSource gives up for good on an answer that is not 200, where it retries
            // after a network error (the next connection goes to another node)
            request.connection().close();
            return HttpGuard.Verdict.refuse(503, ErrorCode.INTERNAL, "this node is shutting down: connect again");
        }
        HttpGuard.Verdict verdict = HttpGuard.check(access, path, request.getHeader("Origin"),
                request.getHeader("Authorization"), request.getParam("access_token"));
        if (verdict.refused()) {
            SseStream.refuse(request.response(), verdict.refusal());
        }
        return verdict;
    }

    /**
     * The node drains: every open stream ends (what was queued goes first), as at its token's expiry,
     * and an EventSource reconnects with its Last-Event-ID, to another node; later ones are refused.
     */
    void endAll() {
        ending = true;
        for (SseStream stream : open) {
            stream.endForShutdown();
        }
    }

    /** Event streams open on this node (documents' and status): what the {@code copresence.sse.streams} gauge reads. */
    int count() {
        return open.size();
    }

    /** Opens a stream on the request's event loop, to end at its token's expiry; nothing is written before its first event. */
    SseStream open(HttpServerRequest request, long expiresAt) {
        SseStream stream = new SseStream(request, config, expiresAt, open::remove);
        open.add(stream);
        if (ending) { // admitted as the drain began
            stream.endForShutdown();
        }
        return stream;
    }
}
