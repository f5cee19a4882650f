package dev.copresence.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

import jakarta.inject.Singleton;

import io.vertx.core.http.HttpServerRequest;

import dev.copresence.config.CopresenceConfig;
import dev.copresence.protocol.Ids;
import dev.copresence.protocol.UserRef;

/**
 * Who may connect: the origin check that stops cross-site WebSocket hijacking, and who a request
 * is. In auth mode {@code none} the client names itself ({@code user} and {@code name} query
 * parameters); a request without them is anonymous until its first {@code join}. In auth mode
 * {@code jwt} a valid token is required (header {@code Authorization: Bearer}, or the
 * {@code access_token} query parameter that browsers must use for WebSockets).
 */
@Singleton
public final class Access {
    /** The longest display name: one in the query is refused past it, a token's is cut to it. */
    public static final int MAX_NAME = 256;

    /**
     * Who a request is: {@code status} 200 with a user (or none yet), else the HTTP status to refuse
     * with. {@code grant} is set in jwt mode.
     */
    public record Identity(int status, UserRef user, Tokens.Grant grant) {
        static Identity refuse(int status) {
            return new Identity(status, null, null);
        }
    }

    private final List<String> allowedOrigins;
    private final boolean jwt;
    private final Tokens tokens;
    private final byte[] apiKey;

    public Access(CopresenceConfig config, Tokens tokens) {
        this.allowedOrigins = config.allowedOrigins().stream().map(String::trim).toList();
        this.jwt = config.auth().mode() == CopresenceConfig.AuthMode.jwt;
        this.tokens = tokens;
        this.apiKey = config.auth().apiKey().filter(k -> !k.isBlank())
                .map(k -> k.getBytes(StandardCharsets.UTF_8)).orElse(null);
    }

    public boolean jwtMode() {
        return jwt;
    }

    /**
     * Whether a request may use the server API ({@code /api}): always in auth mode none; in jwt mode
     * only with {@code Authorization: Bearer <copresence.auth.api-key>}, and never when no key is set.
     */
    public boolean serverApiAllowed(String authorization) {
        if (!jwt) {
            return true;
        }
        String presented = bearer(authorization);
        return apiKey != null && presented != null
                && MessageDigest.isEqual(apiKey, presented.getBytes(StandardCharsets.UTF_8));
    }

    /** A refreshed token sent on an open connection ({@code auth} message). */
    public Tokens.Grant verify(String token) {
        return tokens.verify(token);
    }

    /** The token of an {@code Authorization: Bearer} header, or null. */
    static String bearer(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return authorization.substring(7).trim();
    }

    /** Requests without an Origin (not from a browser) are not refused for it. */
    public boolean originAllowed(String origin) {
        return origin == null || anyOrigin() || allowedOrigins.contains(origin);
    }

    /** Whether {@code copresence.allowed-origins} lets a page of any site in ({@code *}). */
    boolean anyOrigin() {
        return allowedOrigins.contains("*");
    }

    public Identity identify(HttpServerRequest request) {
        if (jwt) {
            String token = bearer(request.getHeader("Authorization"));
            Tokens.Grant grant = tokens.verify(token != null ? token : request.getParam("access_token"));
            return grant == null ? Identity.refuse(401) : new Identity(200, grant.user(), grant);
        }
        String user = request.getParam("user");
        if (user == null) {
            return new Identity(200, null, null);
        }
        String name = request.getParam("name");
        if (!Ids.valid(user) || name != null && name.length() > MAX_NAME) {
            return Identity.refuse(400);
        }
        return new Identity(200, new UserRef(user, name), null);
    }
}
