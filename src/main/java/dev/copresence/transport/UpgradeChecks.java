package dev.copresence.transport;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.quarkus.vertx.http.runtime.security.QuarkusHttpUser;
import io.quarkus.websockets.next.HttpUpgradeCheck;
import io.quarkus.websockets.next.UserData;
import io.smallrye.mutiny.Uni;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.WebServerRequest;

import dev.copresence.protocol.ErrorCode;
import dev.copresence.protocol.Ids;
import dev.copresence.protocol.UserRef;
import dev.copresence.security.Access;
import dev.copresence.security.HttpGuard;
import dev.copresence.security.Tokens;

/**
 * What is decided before a WebSocket exists: the origin (403), the document of the bound endpoint
 * and the user named in the query (400), and, in jwt mode, the token (401), and while the node
 * drains, nothing (503). A refusal carries the protocol's error object. The user found here travels
 * to the connection in its user data.
 *
 * <p>Copresence authenticates a socket itself, here, so nothing asks Quarkus's HTTP security for the
 * request's identity. While the request carries the identity Quarkus would resolve on demand,
 * websockets-next keeps the whole upgrade request (its routing context, headers, response and that
 * pending identity) with the connection for as long as it is open: about 3 KiB of heap per idle
 * connection (docs/benchmarks.md, "Idle memory"). A permitted upgrade drops it.
 *
 * <p>Vert.x's WebSocket keeps the request's headers, and websockets-next a copy of them, for the
 * socket's life, though nothing reads them once it is open: up to the HTTP header limit (20 KiB),
 * twice, per connection, whatever a client sends (cookies, a long user agent, padding). A permitted
 * upgrade keeps only the headers the handshake itself reads, and {@link Connections} empties
 * Vert.x's map once the socket is open. (This is the only upgrade check: one added after it would
 * see only those headers.)
 */
@ApplicationScoped
public class UpgradeChecks implements HttpUpgradeCheck {
    static final UserData.TypedKey<UserRef> USER = new UserData.TypedKey<>("copresence.user");
    static final UserData.TypedKey<Tokens.Grant> GRANT = new UserData.TypedKey<>("copresence.grant");
    /** The HTTP connection under the socket: pausing it is the only way to stop reading a WebSocket in 3.34. */
    static final UserData.TypedKey<ConnectionBase> TCP = new UserData.TypedKey<>("copresence.tcp");
    /** The upgrade request's headers, which Vert.x's WebSocket keeps: emptied once the socket is open. */
    static final UserData.TypedKey<MultiMap> HEADERS = new UserData.TypedKey<>("copresence.headers");
    /** What Vert.x and Netty read to answer the handshake (lower case; header names are case-insensitive). */
    private static final List<String> HANDSHAKE_HEADERS = List.of("host", "connection", "upgrade", "sec-websocket-key",
            "sec-websocket-version", "sec-websocket-protocol", "sec-websocket-extensions");
    /** Unique to each handshake: not worth a slot among the shared values. */
    private static final String KEY_HEADER = "sec-websocket-key";
    /** Values nearly every handshake sends (browsers' and libraries' spellings): shared as constants. */
    private static final List<String> COMMON_VALUES = List.of("Upgrade", "upgrade", "websocket", "13",
            "keep-alive, Upgrade");
    /** Longer values are not shared: the table then holds at most 64 short strings, whatever clients send. */
    private static final int MAX_SHARED_LENGTH = 256;

    private final Access access;
    private final Drain drain;
    /**
     * Other header values seen lately (the Host, the extensions offered), so that the thousands of
     * sockets that sent the same value keep one string between them. A slot holds the last value that hashed
     * to it: any value a client sends only replaces another, and a race between two event loops on a
     * slot costs a miss, never a wrong value (strings are immutable).
     */
    private final String[] recentValues = new String[64];

    public UpgradeChecks(Access access, Drain drain) {
        this.access = access;
        this.drain = drain;
    }

    /** Before websockets-next's routes, so that a refused upgrade is answered by {@link #refuseWithError}. */
    private static final int ORDER = -90;
    /** Where an upgrade let through by {@link #refuseWithError} keeps its identity for {@link #perform}. */
    private static final String IDENTITY = "copresence.upgradeIdentity";

    void route(@Observes Router router) {
        router.route("/ws").order(ORDER).handler(this::refuseWithError);
        router.route("/ws/documents/:doc").order(ORDER).handler(this::refuseWithError);
    }

    /**
     * Answers a refused upgrade as the contract's other HTTP errors are, with the protocol's error
     * object: websockets-next 3.34 answers one with its status and an empty body (and a request that
     * is no upgrade at all with a page saying "Resource not found"). An upgrade let through carries
     * its identity on to {@link #perform}, so that its token is verified once.
     */
    private void refuseWithError(RoutingContext routing) {
        HttpServerRequest request = routing.request();
        // an upgrade as websockets-next tells one: by its key
        Decision decision = request.headers().contains(KEY_HEADER) ? decide(request, routing.pathParam("doc"))
                : Decision.refuse(426, ErrorCode.BAD_REQUEST, "a WebSocket endpoint: open it with a WebSocket upgrade");
        if (decision.refused()) {
            HttpGuard.Refusal refusal = decision.refusal();
            if (refusal.status() == 426) {
                routing.response().putHeader("Upgrade", "websocket").putHeader("Connection", "Upgrade");
            }
            routing.response().setStatusCode(refusal.status()).putHeader("Content-Type", "application/json")
                    .end(refusal.json());
            return;
        }
        routing.put(IDENTITY, decision.identity());
        routing.next();
    }

    @Override
    public Uni<CheckResult> perform(HttpUpgradeContext context) {
        HttpServerRequest request = context.httpRequest();
        Access.Identity identity = null;
        if (request instanceof WebServerRequest web) {
            identity = web.routingContext().remove(IDENTITY);
            web.routingContext().remove(QuarkusHttpUser.DEFERRED_IDENTITY_KEY);
        }
        if (identity == null) { // not decided before (no routing context): decided here, refused without a body
            Decision decision = decide(request, context.pathParam("doc"));
            if (decision.refused()) {
                return CheckResult.rejectUpgrade(decision.refusal().status());
            }
            identity = decision.identity();
        }
        if (identity.user() != null) {
            context.userData().put(USER, identity.user());
        }
        if (identity.grant() != null) {
            context.userData().put(GRANT, identity.grant());
        }
        if (request.connection() instanceof ConnectionBase tcp) {
            context.userData().put(TCP, tcp);
        }
        keepHandshakeHeadersOnly(request.headers());
        context.userData().put(HEADERS, request.headers());
        return CheckResult.permitUpgrade();
    }

    /** An upgrade refused (with why), or let through as {@code identity}. */
    private record Decision(HttpGuard.Refusal refusal, Access.Identity identity) {
        boolean refused() {
            return refusal != null;
        }

        static Decision refuse(int status, ErrorCode code, String message) {
            return new Decision(new HttpGuard.Refusal(status, code, message), null);
        }
    }

    private Decision decide(HttpServerRequest request, String doc) {
        if (drain.draining()) {
            return Decision.refuse(503, ErrorCode.INTERNAL, "this node is shutting down: connect again");
        }
        if (!access.originAllowed(request.getHeader("Origin"))) {
            return new Decision(HttpGuard.Refusal.FOREIGN_ORIGIN, null);
        }
        if (request.path().startsWith("/ws/documents/") && !Ids.valid(doc)) {
            return Decision.refuse(400, ErrorCode.BAD_REQUEST, "doc must match [A-Za-z0-9._:-]{1,128}");
        }
        Access.Identity identity = access.identify(request);
        return switch (identity.status()) {
            case 200 -> new Decision(null, identity);
            case 401 -> new Decision(HttpGuard.Refusal.NO_VALID_TOKEN, null);
            default -> Decision.refuse(identity.status(), ErrorCode.BAD_REQUEST,
                    "user must match [A-Za-z0-9._:-]{1,128}, and name be at most " + Access.MAX_NAME + " characters");
        };
    }

    /**
     * Removes every header the handshake does not read, and puts the others back under one shared
     * name string each and, but for the key, shared value strings: websockets-next keeps a copy of
     * them for the socket's life, ten strings per connection of which nine (about 0.4 KiB) are then
     * shared.
     */
    private void keepHandshakeHeadersOnly(MultiMap headers) {
        for (String name : headers.names()) { // a copy: removing while iterating is safe
            String handshakeName = handshakeName(name);
            List<String> values = handshakeName == null ? List.of() : headers.getAll(name);
            headers.remove(name);
            for (String value : values) {
                headers.add(handshakeName, handshakeName.equals(KEY_HEADER) ? value : shared(value));
            }
        }
    }

    private static String handshakeName(String name) {
        for (String known : HANDSHAKE_HEADERS) {
            if (known.equalsIgnoreCase(name)) {
                return known;
            }
        }
        return null;
    }

    private String shared(String value) {
        for (String common : COMMON_VALUES) {
            if (common.equals(value)) {
                return common;
            }
        }
        if (value.length() > MAX_SHARED_LENGTH) {
            return value;
        }
        int slot = value.hashCode() & (recentValues.length - 1);
        String recent = recentValues[slot];
        if (value.equals(recent)) {
            return recent;
        }
        recentValues[slot] = value;
        return value;
    }

    /** The first value of a query parameter, decoded; null when absent. */
    static String queryParam(String query, String name) {
        if (query == null) {
            return null;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            if (key.equals(name)) {
                return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }
}
