package dev.copresence.support;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The HTTP idle timeout at 4 s, so that tests can watch what it closes and what it spares: pings
 * every second and a 2.5 s idle timeout (4408); the SSE heartbeat is 1 s in tests, which the node
 * requires to be a second and more under the HTTP idle timeout. One profile for every such test,
 * so that Quarkus starts once for them.
 */
public final class ShortIdleTimeouts implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("quarkus.http.idle-timeout", "4s", "copresence.ping-interval", "1s", "copresence.idle-timeout", "2500ms");
    }
}
