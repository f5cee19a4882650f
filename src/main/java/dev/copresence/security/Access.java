package dev.copresence.security;

import java.util.List;

import jakarta.inject.Singleton;

import io.vertx.core.http.HttpServerRequest;

import dev.copresence.config.CopresenceConfig;
import dev.copresence.protocol.Ids;
import dev.copresence.protocol.UserRef;

/**
 * Who may connect: the origin check that stops cross-site WebSocket hijacking, and who a request
 * is. In auth mode {@code none} the client names itself ({@code user} and {@code name} query
 * parameters); a request without them is anonymous until its first {@code join}.
 */
@Singleton
public final class Access {
    private static final int MAX_NAME = 256;

    /** Who a request is: {@code status} 200 with a user (or none yet), else the HTTP status to refuse with. */
    public record Identity(int status, UserRef user, boolean authenticated, Long expiresAt) {
        static Identity refuse(int status) {
            return new Identity(status, null, false, null);
        }
    }

    private final List<String> allowedOrigins;

    public Access(CopresenceConfig config) {
        this.allowedOrigins = config.allowedOrigins().stream().map(String::trim).toList();
    }

    /** Requests without an Origin (not from a browser) are not refused for it. */
    public boolean originAllowed(String origin) {
        return origin == null || allowedOrigins.contains("*") || allowedOrigins.contains(origin);
    }

    public Identity identify(HttpServerRequest request) {
        String user = request.getParam("user");
        if (user == null) {
            return new Identity(200, null, false, null);
        }
        String name = request.getParam("name");
        if (!Ids.valid(user) || name != null && name.length() > MAX_NAME) {
            return Identity.refuse(400);
        }
        return new Identity(200, new UserRef(user, name), false, null);
    }
}
