package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.GenerousLimits;
import dev.copresence.support.RawWebSocket;

/** {@code copresence.limits.message-size} raised past the WebSocket stack's own 64 KiB frame limit. */
@QuarkusTest
@TestProfile(GenerousLimits.class)
class RaisedMessageLimitTest {
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
