package dev.copresence.security;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.PropertiesConfigSource;

import dev.copresence.config.CopresenceConfig;

/** Auth mode jwt refuses to start without the settings that make a token mean something. */
class JwtSettingsCheckTest {
    private static JwtSettingsCheck check(Map<String, String> settings) {
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(CopresenceConfig.class)
                .withConverter(java.time.Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .withSources(new PropertiesConfigSource(settings, "test", 500)).build();
        CopresenceConfig copresence = config.getConfigMapping(CopresenceConfig.class);
        return new JwtSettingsCheck(copresence, new Access(copresence, new Tokens(null, 60)), config);
    }

    @Test
    void jwtModeWithoutAnIssuerOrAKeyDoesNotStart() {
        IllegalStateException noIssuer = assertThrows(IllegalStateException.class, () -> check(Map.of("copresence.auth.mode", "jwt",
                "mp.jwt.verify.publickey.location", "keys/public.pem")).onStart(null));
        assertEquals("copresence.auth.mode=jwt needs mp.jwt.verify.issuer (MP_JWT_VERIFY_ISSUER)", noIssuer.getMessage());
        IllegalStateException noKey = assertThrows(IllegalStateException.class, () -> check(Map.of("copresence.auth.mode", "jwt",
                "mp.jwt.verify.issuer", " ")).onStart(null));
        assertEquals("copresence.auth.mode=jwt needs mp.jwt.verify.issuer (MP_JWT_VERIFY_ISSUER) and mp.jwt.verify.publickey or "
                + "mp.jwt.verify.publickey.location (MP_JWT_VERIFY_PUBLICKEY_LOCATION)", noKey.getMessage());
    }

    @Test
    void jwtModeWithBothStartsAndModeNoneNeedsNeither() {
        assertDoesNotThrow(() -> check(Map.of("copresence.auth.mode", "jwt", "mp.jwt.verify.issuer", "https://auth.example",
                "mp.jwt.verify.publickey", "MIIB...")).onStart(null));
        assertDoesNotThrow(() -> check(Map.of()).onStart(null));
    }

    @Test
    void jwtModeWithAnyOriginAllowedStartsWithAWarning() {
        Map<String, String> jwt = Map.of("copresence.auth.mode", "jwt", "mp.jwt.verify.issuer", "https://auth.example",
                "mp.jwt.verify.publickey", "MIIB...");
        assertEquals(1, check(jwt).warnings().size(), "the default origins (*)");
        assertTrue(check(jwt).warnings().get(0).startsWith("copresence.allowed-origins is * in jwt mode"));
        Map<String, String> app = new java.util.HashMap<>(jwt);
        app.put("copresence.allowed-origins", "https://app.example");
        assertEquals(List.of(), check(app).warnings());
        assertEquals(List.of(), check(Map.of()).warnings(), "auth mode none: the origin check is the only guard, and documented");
    }
}
