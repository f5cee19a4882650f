package dev.copresence.security;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Cross-origin reads of the browser feeds, {@code /sse} and {@code /poll}. An app is usually served
 * from another origin than the service, and a browser hands an {@code EventSource} or a
 * {@code fetch} the response only if it names the page's origin: an allowed origin
 * ({@code copresence.allowed-origins}) gets its own origin back, and a preflight (a {@code fetch}
 * with an {@code Authorization} header) is answered here. Other origins get no such header; HttpGuard
 * refuses them with 403. The server API ({@code /api}) takes an API key, which never belongs in a
 * browser: it gets no CORS headers. WebSocket upgrades are not subject to CORS (the origin check at
 * the upgrade is theirs).
 */
@Singleton
public final class Cors {
    /** Before Quarkus's own handlers, so that a preflight is answered before any route refuses an OPTIONS. */
    private static final int ORDER = -100;

    private final Access access;

    public Cors(Access access) {
        this.access = access;
    }

    void route(@Observes Router router) {
        router.route().order(ORDER).handler(this::handle);
    }

    private void handle(RoutingContext context) {
        HttpServerRequest request = context.request();
        if (!isFeed(request.path())) {
            context.next();
            return;
        }
        // the answer depends on the Origin, also where there is none: a cache must not serve one
        // request's answer to another origin
        context.response().putHeader("Vary", "Origin");
        String origin = request.getHeader("Origin");
        if (origin == null || !access.originAllowed(origin)) {
            context.next();
            return;
        }
        // the origin itself rather than "*": the same answer for a configured list and for any origin
        context.response().putHeader("Access-Control-Allow-Origin", origin);
        if (request.method() == HttpMethod.OPTIONS && request.getHeader("Access-Control-Request-Method") != null) {
            context.response()
                    .putHeader("Access-Control-Allow-Methods", "GET")
                    .putHeader("Access-Control-Allow-Headers", "Authorization, Last-Event-ID")
                    .putHeader("Access-Control-Max-Age", "600")
                    .setStatusCode(204)
                    .end();
            return;
        }
        context.next();
    }

    private static boolean isFeed(String path) {
        return path != null && (path.startsWith("/sse/") || path.startsWith("/poll/"));
    }
}
