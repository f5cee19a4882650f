package dev.copresence.support;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * An HTTP idle timeout of 3 s, shorter than the WebSocket ping interval (10 s): a quiet WebSocket
 * goes longer than the HTTP idle timeout without a word from its client (at most one pong in any 10
 * s), and only the liveness tick's own idle timeout (30 s here) may act on that. (The tests' SSE heartbeat, 1 s, must be a second and more
 * under the HTTP idle timeout.)
 */
public final class HttpIdleShorterThanPings implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("quarkus.http.idle-timeout", "3s", "copresence.ping-interval", "10s", "copresence.idle-timeout", "30s");
    }
}
