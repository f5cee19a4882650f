package dev.copresence.security;

import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

import io.quarkus.runtime.StartupEvent;

import dev.copresence.config.CopresenceConfig;

/**
 * Auth mode {@code jwt} does not start without an issuer and a public key. Without an issuer
 * SmallRye JWT takes tokens of any issuer, so any token signed with the same key for another
 * purpose would let its bearer in; without a key every token is refused. Either is a setting left
 * out, which an operator learns at once rather than from users. Allowed origins left at {@code *}
 * start with a warning.
 */
@Singleton
final class JwtSettingsCheck {
    private static final Logger LOG = Logger.getLogger(JwtSettingsCheck.class);
    private final CopresenceConfig config;
    private final Access access;
    private final Config all;

    JwtSettingsCheck(CopresenceConfig config, Access access, Config all) {
        this.config = config;
        this.access = access;
        this.all = all;
    }

    void onStart(@Observes StartupEvent event) {
        if (config.auth().mode() != CopresenceConfig.AuthMode.jwt) {
            return;
        }
        List<String> missing = new ArrayList<>();
        if (blank("mp.jwt.verify.issuer")) {
            missing.add("mp.jwt.verify.issuer (MP_JWT_VERIFY_ISSUER)");
        }
        if (blank("mp.jwt.verify.publickey") && blank("mp.jwt.verify.publickey.location")) {
            missing.add("mp.jwt.verify.publickey or mp.jwt.verify.publickey.location (MP_JWT_VERIFY_PUBLICKEY_LOCATION)");
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("copresence.auth.mode=jwt needs " + String.join(" and ", missing));
        }
        warnings().forEach(LOG::warn);
    }

    /** What jwt mode starts with but an operator should hear of. */
    List<String> warnings() {
        if (!access.jwtMode() || !access.anyOrigin()) {
            return List.of();
        }
        return List.of("copresence.allowed-origins is * in jwt mode: a page of any site may use a token it holds to connect "
                + "on its user's behalf; set the origins of your app (COPRESENCE_ALLOWED_ORIGINS)");
    }

    private boolean blank(String name) {
        return all.getOptionalValue(name, String.class).map(String::isBlank).orElse(true);
    }
}
