package dev.copresence.security;

import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.inject.Instance;
import jakarta.inject.Singleton;
import jakarta.json.JsonArray;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jboss.logging.Logger;

import io.smallrye.jwt.auth.principal.JWTParser;
import io.smallrye.jwt.auth.principal.ParseException;

import dev.copresence.protocol.Ids;
import dev.copresence.protocol.UserRef;

/**
 * Verifies tokens in auth mode {@code jwt} with SmallRye JWT (signature, issuer, expiry, as
 * configured by {@code mp.jwt.verify.*}; and not issued in the future, past the clock skew) and reads what Copresence needs from them: {@code sub} is
 * the user, {@code name} its display name, the optional {@code docs} claim the documents it may
 * join, and the optional {@code watch} claim the users whose online status it may watch. Token
 * contents are never logged.
 */
@Singleton
public final class Tokens {
    private static final Logger LOG = Logger.getLogger(Tokens.class);

    /** What a valid token grants: {@code docs} and {@code watch} are {@link IdPatterns#ANY} without their claim. */
    public record Grant(UserRef user, IdPatterns docs, IdPatterns watch, long expiresAt) {
    }

    private final Instance<JWTParser> parser;
    /** How far ahead of this node's clock an issuer's may run (SmallRye's own skew for exp). */
    private final long skewSeconds;

    public Tokens(Instance<JWTParser> parser,
            @ConfigProperty(name = "mp.jwt.verify.clock.skew", defaultValue = "60") long skewSeconds) {
        this.parser = parser;
        this.skewSeconds = skewSeconds;
    }

    /** The grant of a valid token, or null when it is missing, invalid or expired. */
    public Grant verify(String token) {
        if (token == null || token.isBlank()) {
            return null;
        }
        JsonWebToken jwt;
        try {
            jwt = parser.get().parse(token);
        } catch (ParseException | RuntimeException e) {
            LOG.debugf("token refused: %s", e.getClass().getSimpleName());
            return null;
        }
        // SmallRye takes a token issued in the future; one issued past the clock skew is not yet valid
        if (jwt.getIssuedAtTime() > System.currentTimeMillis() / 1000 + skewSeconds) {
            LOG.debug("token refused: issued in the future");
            return null;
        }
        String sub = jwt.getSubject();
        if (!Ids.valid(sub)) {
            LOG.debug("token refused: sub is not a valid user id");
            return null;
        }
        String name = shortened(text(jwt.getClaim("name")));
        return new Grant(new UserRef(sub, name), IdPatterns.of(patterns(jwt.getClaim("docs"))),
                IdPatterns.of(patterns(jwt.getClaim("watch"))), jwt.getExpirationTime() * 1000L);
    }

    /**
     * A name claim cut to {@link Access#MAX_NAME} characters (not inside a surrogate pair): every
     * member record and presence event carries it, and the issuer, not the client, chose it.
     */
    private static String shortened(String name) {
        if (name == null || name.length() <= Access.MAX_NAME) {
            return name;
        }
        int end = Character.isHighSurrogate(name.charAt(Access.MAX_NAME - 1)) ? Access.MAX_NAME - 1 : Access.MAX_NAME;
        return name.substring(0, end);
    }

    private static String text(Object value) {
        return value instanceof JsonString s ? s.getString() : value == null ? null : value.toString();
    }

    /** A claim of ids and patterns: an array of them, or one; null when the token has none. */
    private static List<String> patterns(Object claim) {
        if (claim == null) {
            return null;
        }
        List<String> patterns = new ArrayList<>();
        if (claim instanceof JsonArray array) {
            for (JsonValue value : array) {
                if (value instanceof JsonString s) {
                    patterns.add(s.getString());
                }
            }
        } else if (claim instanceof Iterable<?> values) {
            values.forEach(v -> patterns.add(text(v)));
        } else {
            patterns.add(text(claim));
        }
        return patterns;
    }
}
