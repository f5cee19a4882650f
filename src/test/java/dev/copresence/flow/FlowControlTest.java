package dev.copresence.flow;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.PrometheusText;
import dev.copresence.support.RawWebSocket;
import dev.copresence.support.WsClient;

/**
 * Bounded memory whatever a client does: a client that stops reading is closed with 1013 and loses
 * nothing durable; a cursor storm costs a slow reader one frame per member; a flood is limited.
 */
@QuarkusTest
@TestProfile(FlowControlTest.LongHistory.class)
class FlowControlTest {
    /**
     * History long enough to resume after the whole flood; a close that cannot get out ends the
     * connection after 5 s rather than 10 (a flooder that reads nothing waits that long; the slow
     * reader has that long to notice its 1013 and read what was queued before it).
     */
    public static class LongHistory implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("copresence.history.size", "5000", "copresence.limits.members-per-doc", "100",
                    "copresence.outbound.close-deadline", "5s");
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final long SEND_BUFFER = 1 << 20;

    @TestHTTPResource("/")
    URI base;
    @jakarta.inject.Inject
    dev.copresence.transport.Connections connections;

    private static String doc(String name) {
        return name + "-" + Long.toString(System.nanoTime(), 36);
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    private static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new IllegalStateException(text, e);
        }
    }

    @Test
    void aClientThatStopsReadingIsClosedWith1013AndResumesWithoutLoss() throws Exception {
        String doc = doc("slow");
        int events = 2400;
        String payload = "x".repeat(8 * 1024);
        // the flood and the slow reader, on threads of their own that stop however the test ends
        java.util.concurrent.ExecutorService work = Executors.newFixedThreadPool(2);
        java.util.concurrent.atomic.AtomicBoolean over = new java.util.concurrent.atomic.AtomicBoolean();
        try (WsClient fast = WsClient.connect(WsClient.ws(base, "/ws"));
                RawWebSocket slow = RawWebSocket.connectSlow(base, "/ws", 4096)) {
            fast.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
            fast.next("joined");
            slow.text("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
            JsonNode slowJoined = parse(slow.nextText());
            String slowMember = slowJoined.get("self").asText();
            String lastOffset = slowJoined.get("offset").asText();
            fast.next("presence");

            long heapBefore = usedHeapAfterGc();
            double slowClosesBefore = metric("copresence_outbound_slow_consumer_closes_total");
            java.util.concurrent.atomic.AtomicLong deepest = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.CompletableFuture<Void> publishing = java.util.concurrent.CompletableFuture.runAsync(() -> {
                for (int i = 0; i < events && !over.get(); i++) {
                    for (dev.copresence.channel.Session session : connections.sessions()) {
                        deepest.accumulateAndGet(session.out().bytes(), Math::max);
                    }
                    given().body("{\"data\":{\"i\":" + i + ",\"pad\":\"" + payload + "\"}}")
                            .post("/api/documents/" + doc + "/broadcast").then().statusCode(200);
                }
            }, work);
            // Once its queue is full the server closes the reader, whose close frame then waits behind what
            // it has not read: a reader that still reads nothing for the close deadline (5 s here) is reset
            // instead (ClientThatStopsReadingTest). This one reads again as soon as it is closed, while
            // the flood goes on, so that the test does not depend on how long the flood takes.
            String joinedAt = lastOffset;
            java.util.concurrent.CompletableFuture<SlowReader> slowRead = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
                        .until(() -> metric("copresence_outbound_slow_consumer_closes_total") > slowClosesBefore);
                Set<Integer> read = new HashSet<>();
                String offset = joinedAt;
                for (String text = slow.nextText(); text != null; text = slow.nextText()) {
                    JsonNode m = parse(text);
                    if ("broadcast".equals(m.path("type").asText())) {
                        read.add(m.at("/data/i").asInt());
                        offset = m.get("offset").asText();
                    }
                }
                return new SlowReader(read, offset);
            }, work);
            int leaves = 0;
            for (int i = 0; i < events; i++) {
                JsonNode m = fast.next();
                while ("presence".equals(m.path("type").asText())) { // the slow member's leave, once it is closed
                    assertEquals("leave", m.path("event").asText(), "the only presence event is the slow member's leave: " + m);
                    assertEquals(slowMember, m.at("/member/id").asText(), "the slow member's: " + m);
                    assertEquals(1, ++leaves, "one leave");
                    m = fast.next();
                }
                assertEquals("broadcast", m.path("type").asText(), "only broadcasts and a leave: " + m);
                assertEquals(i, m.at("/data/i").asInt(), "fast clients get every durable event");
            }
            publishing.get(60, TimeUnit.SECONDS);
            long heapAfter = usedHeapAfterGc();
            long published = (long) events * payload.length();
            System.out.printf("slow consumer: %d MiB published to a reader that stopped; heap after GC %d MiB before, %d MiB after%n",
                    published >> 20, heapBefore >> 20, heapAfter >> 20);
            System.out.printf("slow consumer: the deepest outbound queue held %d KiB (bound %d KiB)%n", deepest.get() >> 10,
                    SEND_BUFFER >> 10);
            assertTrue(deepest.get() <= SEND_BUFFER, "no queue passed the send buffer: " + deepest.get());
            // The heap figures above are a measurement, not an assertion: this JVM also runs the test's own
            // clients, and the in-memory log keeps the whole history (5,000 events here) on purpose.

            SlowReader read = slowRead.get(60, TimeUnit.SECONDS);
            Set<Integer> got = read.got();
            lastOffset = read.lastOffset();
            assertEquals(1013, slow.awaitClose(), "a slow consumer is closed with 1013");
            assertTrue(got.size() < events, "it was closed before it read everything");

            try (WsClient back = WsClient.connect(WsClient.ws(base, "/ws"))) {
                back.send("{\"type\":\"join\",\"doc\":\"" + doc + "\",\"since\":\"" + lastOffset + "\"}");
                JsonNode m;
                while (!"joined".equals((m = back.next()).path("type").asText())) {
                    if ("broadcast".equals(m.path("type").asText())) {
                        assertTrue(got.add(m.at("/data/i").asInt()), "nothing twice");
                    }
                }
                assertTrue(m.get("resumed").asBoolean());
            }
            assertEquals(events, got.size(), "after resuming it has every event");
        } finally {
            over.set(true); // a flood cut short by a failure stops at its next post
            work.shutdownNow();
            work.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    /** What the slow reader read before its close: the events, and the offset to resume from. */
    private record SlowReader(Set<Integer> got, String lastOffset) {
    }

    @Test
    void aCursorStormCostsASlowReaderOneFramePerMemberAndEndsWithTheLatestStates() throws Exception {
        String doc = doc("storm");
        int members = 50;
        String pad = "p".repeat(1024);
        double conflatedBefore = metric("copresence_outbound_conflated_total");
        List<WsClient> movers = new ArrayList<>();
        ScheduledExecutorService ticker = Executors.newScheduledThreadPool(4);
        try (RawWebSocket slow = RawWebSocket.connectSlow(base, "/ws", 4096)) {
            slow.text("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
            slow.nextText();
            Map<String, Integer> expected = new HashMap<>();
            for (int i = 0; i < members; i++) {
                WsClient mover = WsClient.connect(WsClient.ws(base, "/ws"));
                mover.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
                expected.put(mover.next("joined").get("self").asText(), 100);
                movers.add(mover);
            }
            // 50 members x 50 Hz for 2 s: 5,000 updates of ~1 KiB while the slow reader reads nothing
            List<java.util.concurrent.Future<?>> storms = new ArrayList<>();
            java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
            for (WsClient mover : movers) {
                int[] x = { 0 };
                storms.add(ticker.scheduleAtFixedRate(() -> {
                    if (x[0] < 99) {
                        x[0]++;
                        mover.send("{\"type\":\"update\",\"doc\":\"" + doc + "\",\"state\":{\"x\":" + x[0]
                                + ",\"pad\":\"" + pad + "\"}}");
                        sent.incrementAndGet();
                    }
                }, 0, 20, TimeUnit.MILLISECONDS));
            }
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() -> sent.get() == members * 99);
            for (WsClient mover : movers) {
                mover.send("{\"type\":\"update\",\"id\":\"last\",\"doc\":\"" + doc + "\",\"state\":{\"x\":100}}");
                mover.until(m -> "ack".equals(m.path("type").asText()) && "last".equals(m.path("id").asText()));
            }
            storms.forEach(f -> f.cancel(false));

            // now the slow reader reads: it was never closed, and the last state it sees of each member is the latest
            Map<String, Integer> last = new HashMap<>();
            int frames = 0;
            slow.text("{\"type\":\"ping\",\"id\":\"end\"}");
            for (String text = slow.nextText(); text != null; text = slow.nextText()) {
                JsonNode m = parse(text);
                frames++;
                if ("pong".equals(m.path("type").asText())) {
                    break;
                }
                if ("update".equals(m.path("event").asText())) {
                    last.put(m.at("/member/id").asText(), m.at("/member/state/x").asInt());
                }
            }
            assertFalse(slow.isClosed(), "conflation kept the slow reader under its bound");
            assertEquals(expected, last);
            double conflated = metric("copresence_outbound_conflated_total") - conflatedBefore;
            System.out.printf("cursor storm: slow reader read %d frames for %d updates; %.0f conflated%n",
                    frames, members * 101, conflated);
            assertTrue(conflated > 0, "newer updates replaced queued ones");
            assertTrue(frames < members * 101, "fewer frames than updates");
        } finally {
            ticker.shutdownNow();
            movers.forEach(WsClient::close);
        }
    }

    @Test
    void aFloodingClientIsRateLimitedThenClosedWith1008WhileOthersAreServed() {
        try (RawWebSocket flooder = RawWebSocket.connect(base, "/ws");
                WsClient other = WsClient.connect(WsClient.ws(base, "/ws"))) {
            for (int i = 0; i < 1000; i++) {
                flooder.text("{\"type\":\"ping\",\"id\":" + i + "}");
            }
            List<Long> rtts = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                long start = System.nanoTime();
                other.send("{\"type\":\"ping\",\"id\":" + i + "}");
                assertEquals(i, other.next("pong").get("id").asInt());
                rtts.add(System.nanoTime() - start);
            }
            int limited = 0;
            for (String text = flooder.nextText(); text != null; text = flooder.nextText()) {
                if ("rate_limited".equals(parse(text).path("code").asText())) {
                    limited++;
                }
            }
            assertTrue(limited > 0);
            assertEquals(1008, flooder.awaitClose(), "persistent abuse closes the connection");
            rtts.sort(Long::compare);
            System.out.printf("flood: %d refused with rate_limited; the other client's ping p50 %.2f ms, max %.2f ms%n",
                    limited, rtts.get(10) / 1e6, rtts.get(19) / 1e6);
        }
    }

    @Test
    void aClientThatFloodsPingsWithoutReadingIsClosedWith1008() {
        // each ping makes the server write a pong; this client reads none of them (a 4 KiB receive
        // buffer), so without a limit they would pile up in the node
        try (RawWebSocket flooder = RawWebSocket.connectSlow(base, "/ws", 4096);
                WsClient other = WsClient.connect(WsClient.ws(base, "/ws"))) {
            byte[] payload = new byte[125];
            try {
                for (int i = 0; i < 5000; i++) {
                    flooder.ping(payload);
                }
            } catch (IllegalStateException closedWhileWriting) {
                // the server may close before the last ping is written
            }
            assertEquals(1008, flooder.awaitClose(), "a persistent flood of control frames closes the connection");
            other.send("{\"type\":\"ping\",\"id\":\"after\"}");
            assertEquals("after", other.next("pong").path("id").asText());
        }
    }

    private double metric(String name) {
        return PrometheusText.sum(given().get("/q/metrics").then().statusCode(200).extract().asString(), name);
    }
}
