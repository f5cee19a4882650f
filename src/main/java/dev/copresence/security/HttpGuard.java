package dev.copresence.security;

import java.util.Optional;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.jboss.resteasy.reactive.server.ServerRequestFilter;

import io.vertx.ext.web.RoutingContext;

import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ErrorCode;
import dev.copresence.protocol.Ids;
import dev.copresence.protocol.ServerMessage;

/**
 * The HTTP side of access control: a browser request ({@code /api}, {@code /sse}, {@code /poll})
 * from an origin that is not allowed gets 403, and in jwt mode the server API ({@code /api}) needs
 * the API key (401 otherwise; it is never open by accident, not even when no key is configured),
 * while the read-only feeds ({@code /sse}, {@code /poll}) need a user's token, as the WebSocket
 * does (header or {@code access_token} query parameter), whose {@code docs} claim allows the document.
 */
public class HttpGuard {
    private final Access access;

    public HttpGuard(Access access) {
        this.access = access;
    }

    /** Why a request is refused: the HTTP status and the protocol's error. */
    public record Refusal(int status, ErrorCode code, String message) {
        /** A browser request (or upgrade) from an origin not in {@code copresence.allowed-origins}. */
        public static final Refusal FOREIGN_ORIGIN = new Refusal(403, ErrorCode.FORBIDDEN, "origin not allowed");
        /** jwt mode: no token, or one that is not valid. */
        public static final Refusal NO_VALID_TOKEN = new Refusal(401, ErrorCode.UNAUTHORIZED, "a valid token is required");

        /** The body: the protocol's error object. */
        public String json() {
            return Codec.encode(new ServerMessage.Error(null, code.wire(), message));
        }
    }

    /**
     * What the checks decided: refused (with why), or let through, a feed's token expiring at
     * {@code feedExpiresAt} (epoch milliseconds; {@link Long#MAX_VALUE} without one) and allowing to
     * watch the status of {@code watchable} users.
     */
    public record Verdict(Refusal refusal, long feedExpiresAt, IdPatterns watchable) {
        static final Verdict PASS = new Verdict(null, Long.MAX_VALUE, IdPatterns.ANY);

        public static Verdict refuse(int status, ErrorCode code, String message) {
            return refuse(new Refusal(status, code, message));
        }

        static Verdict refuse(Refusal refusal) {
            return new Verdict(refusal, 0, IdPatterns.ANY);
        }

        public boolean refused() {
            return refusal != null;
        }
    }

    /** Where a request let through keeps its feed's expiry, for PollApi (its token is verified once). */
    public static final String FEED_EXPIRES_AT = "copresence.feedExpiresAt";

    @ServerRequestFilter(preMatching = true)
    public Optional<Response> guard(ContainerRequestContext request, RoutingContext routing) {
        Verdict verdict = check(access, request.getUriInfo().getPath(), request.getHeaderString("Origin"),
                request.getHeaderString("Authorization"),
                request.getUriInfo().getQueryParameters().getFirst("access_token"));
        if (verdict.refused()) {
            Refusal r = verdict.refusal();
            return Optional.of(Response.status(r.status()).type(MediaType.APPLICATION_JSON).entity(r.json()).build());
        }
        routing.put(FEED_EXPIRES_AT, verdict.feedExpiresAt());
        return Optional.empty();
    }

    /**
     * The checks, for this filter and for the routes that JAX-RS does not serve (the event streams
     * are written straight to Vert.x: transport/SseStreams).
     */
    public static Verdict check(Access access, String path, String origin, String authorization, String accessToken) {
        boolean api = path.startsWith("/api");
        if (!api && !path.startsWith("/sse") && !path.startsWith("/poll")) {
            return Verdict.PASS;
        }
        if (!access.originAllowed(origin)) {
            return Verdict.refuse(Refusal.FOREIGN_ORIGIN);
        }
        if (api && !access.serverApiAllowed(authorization)) {
            return Verdict.refuse(401, ErrorCode.UNAUTHORIZED,
                    "the server API needs Authorization: Bearer <copresence.auth.api-key>");
        }
        if (api || !access.jwtMode()) {
            return Verdict.PASS;
        }
        String token = Access.bearer(authorization);
        Tokens.Grant grant = access.verify(token != null ? token : accessToken);
        if (grant == null) {
            return Verdict.refuse(Refusal.NO_VALID_TOKEN);
        }
        String doc = documentOf(path);
        // a bad id gets the contract's 400 from the route, whatever the token allows
        if (doc != null && Ids.valid(doc) && !grant.docs().allows(doc)) {
            return Verdict.refuse(403, ErrorCode.FORBIDDEN, "this token does not allow document " + doc);
        }
        return new Verdict(null, grant.expiresAt(), grant.watch());
    }

    /** The document of {@code /sse/documents/{doc}} or {@code /poll/documents/{doc}}, else null. */
    private static String documentOf(String path) {
        int at = path.indexOf("/documents/");
        if (at < 0) {
            return null;
        }
        String rest = path.substring(at + "/documents/".length());
        int slash = rest.indexOf('/');
        return slash < 0 ? rest : rest.substring(0, slash);
    }
}
