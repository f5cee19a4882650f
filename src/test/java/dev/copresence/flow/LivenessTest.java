package dev.copresence.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.RawWebSocket;
import dev.copresence.support.ShortIdleTimeouts;
import dev.copresence.support.WsClient;

/** Pings and the idle timeout: silence closes with 4408; a client that answers pings, or pings itself, stays. */
@QuarkusTest
@TestProfile(ShortIdleTimeouts.class) // pings every second, 4408 after 2.5 s of silence
class LivenessTest {
    @TestHTTPResource("/")
    URI base;

    @Test
    void aSilentClientIsClosedWith4408AfterTheIdleTimeout() {
        try (RawWebSocket silent = RawWebSocket.connect(base, "/ws")) {
            // read frames without answering the server's pings, until it closes
            int pings = 0;
            RawWebSocket.Frame frame;
            while ((frame = silent.readFrame()) != null && frame.opcode() != RawWebSocket.CLOSE) {
                if (frame.opcode() == RawWebSocket.PING) {
                    pings++;
                }
            }
            assertEquals(RawWebSocket.CLOSE, frame.opcode());
            assertEquals(4408, frame.closeCode());
            assertTrue(pings > 0, "the server pinged it first");
            // the once-a-second tick: two ticks ping it before the third closes it (one more with a late
            // tick); a timer of its own as well would have sent twice as many
            assertTrue(pings <= 3, pings + " pings within the 2.5 s idle timeout");
        }
    }

    @Test
    void theMembersOfASilentClientLeaveWithReasonTimeout() {
        String doc = "liveness-timeout";
        try (WsClient watcher = WsClient.connect(WsClient.ws(base, "/ws?user=watcher"));
                RawWebSocket silent = RawWebSocket.connect(base, "/ws?user=silent")) {
            watcher.send("{\"type\":\"join\",\"id\":1,\"doc\":\"" + doc + "\"}");
            watcher.untilType("joined");
            silent.text("{\"type\":\"join\",\"id\":1,\"doc\":\"" + doc + "\"}");
            // the watcher answers the server's pings (the JDK client does); the silent one reads, but
            // never answers, until the server closes it
            RawWebSocket.Frame frame;
            do {
                frame = silent.readFrame(); // pings, its joined, the watcher's presence
            } while (frame != null && frame.opcode() != RawWebSocket.CLOSE);
            assertNotNull(frame);
            assertEquals(4408, frame.closeCode());
            silent.close();
            JsonNode join = watcher.until(m -> "join".equals(m.path("event").asText()));
            String silentMember = join.get("member").get("id").asText();
            JsonNode leave = watcher.until(m -> "leave".equals(m.path("event").asText()));
            assertEquals(silentMember, leave.get("member").get("id").asText());
            assertEquals("timeout", leave.get("reason").asText(), "it stopped answering: it neither left nor closed");
        }
    }

    @Test
    void aClientThatOnlyPingsTheServerIsNotIdle() {
        try (RawWebSocket pinging = RawWebSocket.connect(base, "/ws")) {
            // it answers none of the server's pings and sends no message: only pings of its own, for 2.5 idle timeouts
            long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (System.nanoTime() < until) {
                pinging.ping("still here".getBytes(StandardCharsets.UTF_8));
                RawWebSocket.Frame frame;
                do {
                    frame = pinging.readFrame();
                    assertNotNull(frame, "the connection ended");
                    RawWebSocket.Frame seen = frame;
                    assertNotEquals(RawWebSocket.CLOSE, frame.opcode(),
                            () -> "closed with " + seen.closeCode() + " while pinging the server");
                } while (frame.opcode() != RawWebSocket.PONG);
                Awaitility.await().pollDelay(Duration.ofMillis(400)).until(() -> true); // the client's own pace
            }
            pinging.text("{\"type\":\"ping\",\"id\":7}");
            RawWebSocket.Frame frame;
            do {
                frame = pinging.readFrame();
                assertNotNull(frame, "the connection ended");
            } while (frame.opcode() != RawWebSocket.TEXT);
            assertTrue(frame.text().contains("\"pong\""), frame.text());
        }
    }

    @Test
    void aClientThatAnswersPingsIsNeverClosed() {
        long until = System.currentTimeMillis() + 5000;
        try (WsClient client = WsClient.connect(WsClient.ws(base, "/ws"))) {
            // the JDK client answers pings by itself; it sends nothing else for 2.5 idle timeouts
            Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> System.currentTimeMillis() > until);
            assertFalse(client.isClosed());
            client.send("{\"type\":\"ping\",\"id\":1}");
            assertEquals(1, client.next("pong").get("id").asInt());
        }
    }
}
