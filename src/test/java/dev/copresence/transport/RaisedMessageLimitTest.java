package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.RawWebSocket;

/** {@code copresence.limits.message-size} raised past the WebSocket stack's own 64 KiB frame limit. */
@QuarkusTest
@TestProfile(RaisedMessageLimitTest.Limit128KiB.class)
class RaisedMessageLimitTest {
    public static final class Limit128KiB implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("copresence.limits.message-size", "131072");
        }
    }

    @TestHTTPResource("/")
    URI base;

    @Test
    void aMessageWithinARaisedLimitIsTakenInOneFrame() {
        try (RawWebSocket ws = RawWebSocket.connect(base, "/ws?user=ada")) {
            ws.text("{\"type\":\"ping\",\"id\":\"big\",\"pad\":\"" + "x".repeat(100_000) + "\"}");
            assertEquals("{\"type\":\"pong\",\"id\":\"big\"}", ws.nextText());
        }
    }

    @Test
    void aMessageOverARaisedLimitInOneFrameClosesWith1009() {
        try (RawWebSocket ws = RawWebSocket.connect(base, "/ws?user=ada")) {
            ws.text("{\"type\":\"ping\",\"id\":\"big\",\"pad\":\"" + "x".repeat(140_000) + "\"}");
            assertEquals(null, ws.nextText());
            assertEquals(1009, ws.awaitClose());
        }
    }
}
