package dev.copresence.transport;

import java.util.Optional;

import jakarta.inject.Singleton;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;

import dev.copresence.config.CopresenceConfig;
import dev.copresence.security.Access;
import dev.copresence.security.HttpGuard;

/**
 * What every event stream route ({@link SseDocuments}, {@link SseStatus}) needs before it has a stream
 * of its own: the request's checks, and a stream opened with the node's limits. The routes then know
 * only what they stream.
 */
@Singleton
public final class SseStreams {
    private final Access access;
    private final Vertx vertx;
    private final CopresenceConfig config;

    public SseStreams(Access access, Vertx vertx, CopresenceConfig config) {
        this.access = access;
        this.vertx = vertx;
        this.config = config;
    }

    /**
     * The origin and token checks (HttpGuard's, which JAX-RS does not run for these plain routes):
     * true when the request was refused, and answered.
     */
    boolean refusedBy(HttpServerRequest request, String path) {
        Optional<HttpGuard.Refusal> refused = HttpGuard.check(access, path, request.getHeader("Origin"),
                request.getHeader("Authorization"), request.getParam("access_token"));
        refused.ifPresent(refusal -> SseStream.refuse(request.response(), refusal));
        return refused.isPresent();
    }

    /** Opens a stream on the request's event loop; nothing is written before its first event. */
    SseStream open(HttpServerRequest request) {
        return new SseStream(request, vertx, config);
    }
}
