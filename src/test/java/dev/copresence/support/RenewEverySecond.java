package dev.copresence.support;

import java.time.Duration;
import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The node renews its members every second (the scheduler's finest step; the default is 10 s) and a
 * document's history outlives its last event and member by 3 s (the default is an hour): for tests
 * of what renewals keep, and of what they would put back.
 */
public final class RenewEverySecond implements QuarkusTestProfile {
    public static final Duration HISTORY_TTL = Duration.ofSeconds(3);

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("copresence.presence.renew-interval", "1s", "copresence.history.ttl", HISTORY_TTL.toSeconds() + "s");
    }
}
