package dev.copresence.security;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

import dev.copresence.support.TestTokens;

/** Auth mode jwt with the test keys, an API key, and one allowed browser origin. */
public class JwtProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "copresence.auth.mode", "jwt",
                "copresence.auth.api-key", "test-api-key",
                "mp.jwt.verify.publickey.location", "jwt/public.pem",
                "mp.jwt.verify.issuer", TestTokens.ISSUER,
                "copresence.allowed-origins", "https://app.example");
    }
}
