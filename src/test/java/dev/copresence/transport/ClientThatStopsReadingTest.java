package dev.copresence.transport;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;

import jakarta.inject.Inject;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.channel.Session;
import dev.copresence.support.PingFlood;
import dev.copresence.support.RawWebSocket;
import dev.copresence.support.WsClient;

/**
 * A client that stops reading, and keeps its receive window shut, cannot hold its socket: the
 * node closes it for silence (4408), and when that close frame cannot get past what the client
 * has not read, the node ends the TCP connection itself {@code outbound.close-deadline} later
 * (2 s here, 10 s by default). Before, only the HTTP idle timer would have (90 s); an open WebSocket no longer has one.
 * The socket is filled either by pongs, which do not pass the outbound queue, or by a document's
 * events, which leave frames waiting in the queue: a close must not wait for them to drain into
 * the full socket, it is handed to the socket behind them and the deadline ends the connection.
 */
@QuarkusTest
@TestProfile(ClientThatStopsReadingTest.ShortSilence.class)
class ClientThatStopsReadingTest {
    /** Pings within the rate whatever their number, a 3 s idle timeout (4408), and a 2 s close deadline. */
    public static class ShortSilence implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("copresence.limits.rate", "10000000", "copresence.limits.burst", "10000000",
                    "copresence.idle-timeout", "3s", "copresence.ping-interval", "1s", "copresence.outbound.close-deadline", "2s");
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URI base;

    /**
     * Silence (the 3 s idle timeout, checked on the 1 s tick), then the close deadline, and a margin
     * short of the default deadline's 8 s more: the setting is what lets the connection go.
     */
    private static final Duration LET_GO = Duration.ofSeconds(3 + 1 + 2 + 5);

    @Inject
    Connections connections;

    @Test
    void aClientThatFillsItsSocketAndStopsReadingIsDisconnected() throws Exception {
        int before = connections.count();
        try (RawWebSocket client = RawWebSocket.connectSlow(base, "/ws", 4096)) {
            PingFlood flood = PingFlood.start(client);
            try {
                flood.awaitStalled();
                assertTrue(connections.count() > before, "the connection is open while the client is stuck");

                // the client reads nothing from here on: 4408 after 3 s of silence, then the deadline
                awaitTheNodeLetsGo(before);
            } finally {
                flood.close();
            }
            assertEnded(client);
        }
    }

    @Test
    void aClientThatStopsReadingWithEventsStillQueuedIsDisconnected() throws Exception {
        String doc = "stuck-" + Long.toString(System.nanoTime(), 36);
        try (WsClient other = WsClient.connect(WsClient.ws(base, "/ws"))) {
            other.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
            other.next("joined");
            stopsReadingWithEventsQueued(doc, other);
        }
    }

    /** The stuck client, while {@code other}, a member of the same document, reads everything. */
    private void stopsReadingWithEventsQueued(String doc, WsClient other) throws Exception {
        String pad = "x".repeat(8 * 1024);
        int before = connections.count();
        try (RawWebSocket client = RawWebSocket.connectSlow(base, "/ws", 4096)) {
            client.text("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
            // joined; from here on the client reads nothing
            String self = JSON.readTree(client.nextText()).get("self").asText();
            // events until some wait in its queue for the full socket, far below the queue's bound (no
            // 1013); its pings keep it from the idle timeout meanwhile (pongs do not pass the queue)
            long waiting = 64 * 1024;
            Session stuck = null;
            for (int i = 0; i < 5_000 && (stuck == null || stuck.out().bytes() <= waiting); i++) {
                client.ping(new byte[0]);
                given().body("{\"data\":{\"pad\":\"" + pad + "\"}}")
                        .post("/api/documents/" + doc + "/broadcast").then().statusCode(200);
                stuck = connections.sessions().stream().max(Comparator.comparingLong(s -> s.out().bytes())).orElse(null);
            }
            assertTrue(stuck != null && stuck.out().bytes() > waiting, "events wait in the stuck client's queue");
            assertTrue(connections.count() > before, "the connection is open while its events wait");

            // 4408 after 3 s of silence, handed to the socket behind the queued events, then the deadline
            awaitTheNodeLetsGo(before);
            // its member left then (not at Vert.x's closing timeout, 10 s later), for its silence
            JsonNode leave = other.until(m -> "presence".equals(m.path("type").asText())
                    && "leave".equals(m.path("event").asText()) && self.equals(m.at("/member/id").asText()));
            assertEquals("timeout", leave.path("reason").asText(), "the reason of a silent client's leave: " + leave);
            given().get("/api/documents/" + doc + "/members").then().statusCode(200).body("members.size()", equalTo(1));
            assertTrue(stuck.out().bytes() == 0 && stuck.out().depth() == 0,
                    "its queue no longer holds the events: " + stuck.out().bytes() + " bytes");
            assertEnded(client);
        }
    }

    private void awaitTheNodeLetsGo(int before) {
        Awaitility.await("the node lets the connection go").atMost(LET_GO).until(() -> connections.count() == before);
    }

    /** What the client sees when it reads at last: its connection has ended (reset, or the 4408 if the frame got out). */
    private static void assertEnded(RawWebSocket client) {
        int code = client.awaitClose();
        assertTrue(code == RawWebSocket.NO_CLOSE_FRAME || code == 4408, "ended with " + code);
    }
}
