package dev.copresence.support;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * Limits raised out of a test's way: so many messages a second that only a full socket can stop a
 * client ({@code PingsBehindAFullSocketTest}), and messages up to 128 KiB, past the WebSocket stack's
 * own 64 KiB frame limit ({@code RaisedMessageLimitTest}). One profile for both: every profile costs
 * the suite a build of the application of its own before the first test.
 */
public final class GenerousLimits implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("copresence.limits.rate", "10000000", "copresence.limits.burst", "10000000",
                "copresence.limits.message-size", "131072");
    }
}
