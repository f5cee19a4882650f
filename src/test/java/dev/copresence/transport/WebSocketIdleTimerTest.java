package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.HttpIdleShorterThanPings;
import dev.copresence.support.WsClient;

/**
 * An open WebSocket answers to the liveness tick's idle timeout (4408) alone: the HTTP idle timeout
 * still closes a connection that never finished its request, but not a WebSocket that is quiet
 * for longer than it.
 */
@QuarkusTest
@TestProfile(HttpIdleShorterThanPings.class)
class WebSocketIdleTimerTest {

    @TestHTTPResource("/")
    URI base;

    @Test
    void aQuietWebSocketOutlivesAnHttpIdleTimeoutShorterThanItsPings() {
        try (WsClient client = WsClient.connect(WsClient.ws(base, "/ws?user=quiet-grace"))) {
            client.send("{\"type\":\"ping\",\"id\":\"hello\"}");
            assertEquals("hello", client.next("pong").path("id").asText());
            // the client sends nothing for 6 s, twice the HTTP idle timeout, but perhaps the pong to the
            // server's first ping (it comes at a random moment of the 10 s period): one pong cannot split
            // 6 s into two gaps both shorter than 3 s
            Awaitility.await().during(Duration.ofSeconds(6)).atMost(Duration.ofSeconds(9)).until(() -> !client.isClosed());
            client.send("{\"type\":\"ping\",\"id\":\"still-here\"}");
            assertEquals("still-here", client.next("pong").path("id").asText());
        }
    }

    @Test
    void aConnectionThatNeverFinishesItsRequestIsStillClosedAtTheHttpIdleTimeout() throws IOException {
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(15_000);
            assertEquals(-1, socket.getInputStream().read(), "the server closes the connection, sending nothing");
        }
    }
}
