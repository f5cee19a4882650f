package dev.copresence.security;

import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.Config;

import io.quarkus.runtime.StartupEvent;

import dev.copresence.config.CopresenceConfig;

/**
 * Auth mode {@code jwt} does not start without an issuer and a public key. Without an issuer
 * SmallRye JWT takes tokens of any issuer, so any token signed with the same key for another
 * purpose would let its bearer in; without a key every token is refused. Either is a setting left
 * out, which an operator learns at once rather than from users.
 */
@Singleton
final class JwtSettingsCheck {
    private final CopresenceConfig config;
    private final Config all;

    JwtSettingsCheck(CopresenceConfig config, Config all) {
        this.config = config;
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
    }

    private boolean blank(String name) {
        return all.getOptionalValue(name, String.class).map(String::isBlank).orElse(true);
    }
}
