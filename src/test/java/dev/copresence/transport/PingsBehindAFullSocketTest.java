package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.URI;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.GenerousLimits;
import dev.copresence.support.PingFlood;
import dev.copresence.support.RawWebSocket;

/**
 * A client that pings within its rate and reads nothing: Vert.x answers every ping with a pong,
 * so once those pongs fill the socket the node stops reading the client until it reads, instead
 * of answering into its own memory. Nothing is lost by it: every ping is answered once the client
 * reads. (A flood over the rate is {@code FlowControlTest}'s.)
 */
@QuarkusTest
@TestProfile(GenerousLimits.class) // so many pings a second are within the rate that only the full socket can stop them
class PingsBehindAFullSocketTest {
    private static final Duration DRAIN = Duration.ofSeconds(30);

    @TestHTTPResource("/")
    URI base;

    @Test
    void aClientThatPingsWithoutReadingIsNotReadUntilItReadsAndThenGetsEveryPong() throws Exception {
        // a 4 KiB receive buffer: the client takes little, so the node's pongs soon fill its socket
        // (the kernel's buffer, then 64 KiB in the node) and eight more pings make it stop reading
        try (RawWebSocket client = RawWebSocket.connectSlow(base, "/ws", 4096)) {
            PingFlood flood = PingFlood.start(client);
            try {
                flood.awaitStalled();
            } finally {
                flood.close(); // the client reads now: the node writes what waited, reads again, answers
            }

            long pongs = 0;
            long deadline = System.nanoTime() + DRAIN.toNanos();
            while (true) {
                assertTrue(System.nanoTime() < deadline, "pongs stopped at " + pongs + " of " + flood.sent() + " pings");
                if (pongs >= flood.sent()) {
                    // its last ping may be written and not yet counted
                    if (flood.stopped(100) && pongs >= flood.sent()) {
                        break;
                    }
                    continue;
                }
                RawWebSocket.Frame frame = client.readFrame();
                assertNotNull(frame, "the connection stays open (pongs so far: " + pongs + " of " + flood.sent() + ")");
                if (frame.opcode() == RawWebSocket.CLOSE) {
                    fail("closed with " + frame.closeCode() + " after " + pongs + " pongs of " + flood.sent() + " pings");
                }
                if (frame.opcode() == RawWebSocket.PONG) {
                    pongs++;
                } else {
                    assertEquals(RawWebSocket.PING, frame.opcode(), "only pongs, and the server's own pings");
                }
            }
            assertNull(flood.writeFailed(), "every ping was written");
            assertEquals(flood.sent(), pongs, "every ping is answered once the client reads");

            client.text("{\"type\":\"ping\",\"id\":\"after\"}");
            String pong = client.nextText();
            assertNotNull(pong, "the connection still answers messages");
            assertEquals("after", new ObjectMapper().readTree(pong).path("id").asText());
        }
    }
}
