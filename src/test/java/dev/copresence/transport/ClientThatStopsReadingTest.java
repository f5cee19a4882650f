package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

import jakarta.inject.Inject;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.PingFlood;
import dev.copresence.support.RawWebSocket;

/**
 * A client that stops reading, and keeps its receive window shut, cannot hold its socket: the
 * node closes it for silence (4408), and when that close frame cannot get past what the client
 * has not read, the node ends the TCP connection itself {@link SocketSink#CLOSE_DEADLINE_SECONDS}
 * later. Before, only the HTTP idle timer would have (90 s); an open WebSocket no longer has one.
 * (That a close does not wait in the outbound queue for such a socket is
 * {@code OutboundQueueTest.aCloseIsSentAfterTheFramesQueuedBeforeItWithoutWaitingForAFullSocket}'s:
 * here the socket is filled by pongs, which do not pass the queue.)
 */
@QuarkusTest
@TestProfile(ClientThatStopsReadingTest.ShortSilence.class)
class ClientThatStopsReadingTest {
    /** Pings within the rate whatever their number, and a 3 s idle timeout (4408). */
    public static class ShortSilence implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("copresence.limits.rate", "10000000", "copresence.limits.burst", "10000000",
                    "copresence.idle-timeout", "3s", "copresence.ping-interval", "1s");
        }
    }

    @TestHTTPResource("/")
    URI base;

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
                Awaitility.await("the node lets the connection go")
                        .atMost(Duration.ofSeconds(3 + 1 + SocketSink.CLOSE_DEADLINE_SECONDS + 15))
                        .until(() -> connections.count() == before);
            } finally {
                flood.close();
            }
            // what the client sees when it reads at last: its connection has ended (reset, or the
            // 4408 if the frame got out)
            int code = client.awaitClose();
            assertTrue(code == RawWebSocket.NO_CLOSE_FRAME || code == 4408, "ended with " + code);
        }
    }
}
