package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.inject.Inject;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.RawWebSocket;

/**
 * A client that stops reading, and keeps its receive window shut, cannot hold its socket: the
 * node closes it for silence (4408), and when that close frame cannot get past what the client
 * has not read, the node ends the TCP connection itself {@link SocketSink#CLOSE_DEADLINE_SECONDS}
 * later. Before, only the HTTP idle timer would have (90 s); an open WebSocket no longer has one.
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
            AtomicLong sent = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<RuntimeException> writeFailed = new AtomicReference<>();
            Thread pinger = new Thread(() -> {
                byte[] payload = new byte[125];
                try {
                    while (!stop.get()) {
                        client.ping(payload); // blocks once the node stops reading
                        sent.incrementAndGet();
                    }
                } catch (RuntimeException e) {
                    writeFailed.set(e); // the node ended the connection under a blocked write
                }
            }, "pinger");
            pinger.setDaemon(true);
            pinger.start();
            try {
                long[] seen = { -1 };
                Awaitility.await("the node's pongs fill the socket and it stops reading the client")
                        .pollInterval(Duration.ofMillis(100)).during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(30))
                        .until(() -> {
                            long now = sent.get();
                            boolean standing = now == seen[0];
                            seen[0] = now;
                            return standing;
                        });
                assertNull(writeFailed.get(), "the pinger is waiting to write, not failed");
                assertTrue(connections.count() > before, "the connection is open while the client is stuck");

                // the client reads nothing from here on: 4408 after 3 s of silence, then the deadline
                Awaitility.await("the node lets the connection go")
                        .atMost(Duration.ofSeconds(3 + 1 + SocketSink.CLOSE_DEADLINE_SECONDS + 15))
                        .until(() -> connections.count() == before);
            } finally {
                stop.set(true);
            }
            // what the client sees when it reads at last: its connection has ended (reset, or the
            // 4408 if the frame got out)
            int code = client.awaitClose();
            assertTrue(code == RawWebSocket.NO_CLOSE_FRAME || code == 4408, "ended with " + code);
        }
    }
}
