package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.RawWebSocket;

/**
 * A client that pings within its rate and reads nothing: Vert.x answers every ping with a pong,
 * so once those pongs fill the socket the node stops reading the client until it reads, instead
 * of answering into its own memory. Nothing is lost by it: every ping is answered once the client
 * reads. (A flood over the rate is {@code FlowControlTest}'s.)
 */
@QuarkusTest
@TestProfile(PingsBehindAFullSocketTest.GenerousRate.class)
class PingsBehindAFullSocketTest {
    /** So many pings a second are within the rate that only the full socket can stop them. */
    public static class GenerousRate implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("copresence.limits.rate", "10000000", "copresence.limits.burst", "10000000");
        }
    }

    @TestHTTPResource("/")
    URI base;

    @Test
    void aClientThatPingsWithoutReadingIsNotReadUntilItReadsAndThenGetsEveryPong() throws Exception {
        // a 4 KiB receive buffer: the client's side of the socket is full after about 30 pongs
        try (RawWebSocket client = RawWebSocket.connectSlow(base, "/ws", 4096)) {
            AtomicLong sent = new AtomicLong();
            AtomicBoolean stop = new AtomicBoolean();
            Thread pinger = new Thread(() -> {
                byte[] payload = new byte[125];
                while (!stop.get()) {
                    client.ping(payload); // blocks once neither the node nor the kernel takes more
                    sent.incrementAndGet();
                }
            }, "pinger");
            pinger.setDaemon(true);
            pinger.start();

            long[] seen = { -1 };
            Awaitility.await("the node stops reading the client, so its pings stop going out")
                    .pollInterval(Duration.ofMillis(100)).during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(30))
                    .until(() -> {
                        long now = sent.get();
                        boolean standing = now == seen[0];
                        seen[0] = now;
                        return standing;
                    });
            assertTrue(pinger.isAlive(), "the pinger is waiting to write, not failed");

            // the client reads: the node writes what waited, reads again, and answers every ping
            stop.set(true);
            long pongs = 0;
            while (pinger.isAlive() || pongs < sent.get()) {
                RawWebSocket.Frame frame = client.readFrame();
                assertNotNull(frame, "the connection stays open (pongs so far: " + pongs + " of " + sent.get() + ")");
                if (frame.opcode() == RawWebSocket.PONG) {
                    pongs++;
                } else {
                    assertEquals(RawWebSocket.PING, frame.opcode(), "only pongs, and the server's own pings");
                }
            }
            assertEquals(sent.get(), pongs, "every ping is answered once the client reads");

            client.text("{\"type\":\"ping\",\"id\":\"after\"}");
            String pong = client.nextText();
            assertNotNull(pong, "the connection still answers messages");
            assertEquals("after", new ObjectMapper().readTree(pong).path("id").asText());
        }
    }
}
