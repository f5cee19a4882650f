package dev.copresence.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.common.http.TestHTTPResource;

import dev.copresence.support.ChunkedResponse;
import dev.copresence.support.PrometheusText;
import dev.copresence.support.RestBroadcast;
import dev.copresence.support.SseClient;
import dev.copresence.support.WsClient;

/**
 * The contract's "Server-Sent Events and long polling" as a black-box HTTP client sees it. Run against
 * each registry by a subclass: the same must hold in memory and on Redis.
 */
public abstract class WebTransportTests {
    private static final AtomicInteger DOCS = new AtomicInteger();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TestHTTPResource("/")
    URI base;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        open.clear();
    }

    private static String doc() {
        return "web-" + DOCS.incrementAndGet() + "-" + Long.toString(System.nanoTime(), 36);
    }

    private URI uri(String pathAndQuery) {
        return base.resolve(pathAndQuery);
    }

    private SseClient sse(String pathAndQuery, Map<String, String> headers) {
        SseClient client = SseClient.open(uri(pathAndQuery), headers);
        open.add(client);
        return client;
    }

    private SseClient sse(String pathAndQuery) {
        return sse(pathAndQuery, Map.of());
    }

    private WsClient ws(String pathAndQuery) {
        WsClient client = WsClient.connect(WsClient.ws(base, pathAndQuery));
        open.add(client);
        return client;
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    private HttpResponse<String> get(String pathAndQuery) {
        return getAsync(pathAndQuery).join();
    }

    private CompletableFuture<HttpResponse<String>> getAsync(String pathAndQuery) {
        return HTTP.sendAsync(HttpRequest.newBuilder(uri(pathAndQuery)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String broadcast(String doc, String data) {
        return RestBroadcast.send(base, doc, data);
    }

    /** The node's copresence_observers gauge (a freshly started node may take a moment to publish it). */
    private double observers() {
        return gauge("copresence_observers");
    }

    /** A gauge of this node, read once the metrics answer. */
    private double gauge(String name) {
        double[] value = new double[1];
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
            value[0] = gaugeNow(name);
            return true;
        });
        return value[0];
    }

    private double gaugeNow(String name) {
        String body = get("/q/metrics").body();
        return PrometheusText.values(body, name).findFirst().orElseThrow(() -> new AssertionError(
                "no " + name + " gauge in:\n" + body.lines().filter(l -> l.startsWith("copresence")).toList()));
    }

    private static JsonNode join(WsClient client, String doc) {
        client.send("{\"type\":\"join\",\"id\":1,\"doc\":\"" + doc + "\"}");
        return client.next("joined");
    }

    // ---- SSE: documents ----------------------------------------------------------------------------

    @Test
    void sseOpensWithTheMembersWhoseIdIsTheOffset() {
        String doc = doc();
        WsClient ada = ws("/ws?user=ada&name=Ada");
        JsonNode joined = join(ada, doc);

        SseClient stream = sse("/sse/documents/" + doc);
        assertEquals(200, stream.status());
        assertTrue(stream.contentType().startsWith("text/event-stream"), stream.contentType());
        SseClient.Event members = stream.next();
        assertEquals("members", members.event());
        JsonNode data = json(members.data());
        assertEquals("members", data.get("type").asText());
        assertEquals(doc, data.get("doc").asText());
        assertEquals(joined.get("offset").asText(), data.get("offset").asText());
        assertEquals(data.get("offset").asText(), members.id());
        assertEquals(1, data.get("members").size());
        assertEquals("ada", data.get("members").get(0).get("user").get("id").asText());
    }

    @Test
    void sseCarriesDurableEventsWithTheirOffsetAsIdAndEphemeralOnesWithoutId() {
        String doc = doc();
        SseClient stream = sse("/sse/documents/" + doc);
        stream.next("members");

        WsClient ada = ws("/ws?user=ada");
        String adaId = join(ada, doc).get("self").asText();
        SseClient.Event join = stream.next();
        assertEquals("presence", join.event());
        assertEquals("join", json(join.data()).get("event").asText());
        assertEquals(json(join.data()).get("offset").asText(), join.id());

        ada.send("{\"type\":\"update\",\"doc\":\"" + doc + "\",\"state\":{\"cursor\":7}}");
        SseClient.Event update = stream.next();
        assertEquals("presence", update.event());
        assertNull(update.id(), "presence/update is ephemeral: no id");
        assertEquals(7, json(update.data()).get("member").get("state").get("cursor").asInt());

        ada.send("{\"type\":\"typing\",\"doc\":\"" + doc + "\",\"typing\":true}");
        SseClient.Event typing = stream.next();
        assertEquals("typing", typing.event());
        assertNull(typing.id());
        assertTrue(json(typing.data()).get("typing").asBoolean());

        // A signal is for one member only: the observer never sees it.
        ada.send("{\"type\":\"signal\",\"id\":2,\"doc\":\"" + doc + "\",\"to\":\"" + adaId + "\",\"data\":\"offer\"}");
        ada.untilType("ack");
        ada.send("{\"type\":\"broadcast\",\"doc\":\"" + doc + "\",\"data\":{\"n\":1}}");
        SseClient.Event broadcast = stream.next();
        while ("typing".equals(broadcast.event())) {
            broadcast = stream.next(); // the typing flag may expire meanwhile (short TTL in tests)
        }
        assertEquals("broadcast", broadcast.event());
        assertEquals(json(broadcast.data()).get("offset").asText(), broadcast.id());
        assertEquals(1, json(broadcast.data()).get("data").get("n").asInt());
    }

    @Test
    void anObserverIsNotAMember() {
        String doc = doc();
        sse("/sse/documents/" + doc).next("members");
        JsonNode members = json(get("/api/documents/" + doc + "/members").body());
        assertEquals(0, members.get("members").size());
    }

    @Test
    void nothingPublishedRightAfterTheStreamOpensIsMissedOrRepeated() {
        String doc = doc();
        SseClient stream = sse("/sse/documents/" + doc);
        List<String> offsets = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            offsets.add(broadcast(doc, String.valueOf(i)));
        }
        String opening = stream.next("members").id();
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            SseClient.Event e = stream.next("broadcast");
            assertEquals(i, json(e.data()).get("data").asInt());
            seen.add(e.id());
        }
        assertEquals(offsets, seen);
        assertNotNull(opening);
        assertNull(stream.poll(Duration.ofMillis(300)), "no event twice");
    }

    @Test
    void lastEventIdHeaderReplaysExactlyTheEventsAfterIt() {
        String doc = doc();
        String first = broadcast(doc, "1");
        String second = broadcast(doc, "2");
        String third = broadcast(doc, "3");

        SseClient stream = sse("/sse/documents/" + doc, Map.of("Last-Event-ID", first));
        SseClient.Event a = stream.next();
        SseClient.Event b = stream.next();
        assertEquals("broadcast", a.event());
        assertEquals(second, a.id());
        assertEquals(third, b.id());
        String fourth = broadcast(doc, "4");
        assertEquals(fourth, stream.next().id());
    }

    @Test
    void lastEventIdQueryParameterResumesLikeTheHeader() {
        String doc = doc();
        String first = broadcast(doc, "1");
        String second = broadcast(doc, "2");
        SseClient stream = sse("/sse/documents/" + doc + "?lastEventId=" + URLEncoder.encode(first, StandardCharsets.UTF_8));
        assertEquals(second, stream.next().id());
    }

    @Test
    void aLastEventIdItCannotResumeFromOpensWithMembers() {
        String doc = doc();
        broadcast(doc, "1");
        SseClient stream = sse("/sse/documents/" + doc, Map.of("Last-Event-ID", "999999999-999"));
        assertEquals("members", stream.next().event());
    }

    /**
     * A reader that stops reading must not make the server hold its events without bound: once its
     * socket and its queue are full the stream is ended (its EventSource reconnects with
     * Last-Event-ID), while a reader that keeps up is served.
     */
    @Test
    void aStreamWhoseReaderStopsReadingIsEndedAndOthersAreServed() throws Exception {
        String doc = doc();
        double observersBefore = observers();
        double streamsBefore = gauge("copresence_sse_streams");
        try (ChunkedResponse stalled = ChunkedResponse.get(base, "/sse/documents/" + doc, "Accept: text/event-stream\r\n")) {
            SseClient healthy = sse("/sse/documents/" + doc);
            healthy.next("members");
            String data = "\"" + "x".repeat(30_000) + "\"";
            int published = 600; // 18 MB: more than the kernel's socket buffers and the 1 MiB send buffer
            for (int i = 0; i < published; i++) {
                broadcast(doc, data);
                assertEquals("broadcast", healthy.next().event(), "the reader that keeps up gets event " + i);
            }
            // now read what the stalled reader was sent, chunk by well-formed chunk, up to HTTP's last chunk
            long events = 0;
            for (byte[] chunk; (chunk = stalled.nextChunk()).length > 0;) {
                events += new String(chunk, StandardCharsets.UTF_8).split("event: broadcast", -1).length - 1;
            }
            assertTrue(events < published, "it was ended before all " + published + " events: it got " + events);
            healthy.close();
            // the stalled reader's connection is still open (kept alive): its ended stream must not linger
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> observers() == observersBefore && gauge("copresence_sse_streams") == streamsBefore);
        }
    }

    @Test
    void aCommentLineKeepsAnIdleStreamOpen() {
        SseClient stream = sse("/sse/documents/" + doc());
        stream.next("members");
        // copresence.sse.heartbeat is 1s in tests.
        assertEquals("heartbeat", stream.nextComment(Duration.ofSeconds(5)));
    }

    @Test
    void aStreamThatCarriesEventsIsNotInterruptedByHeartbeats() {
        String doc = doc();
        SseClient stream = sse("/sse/documents/" + doc);
        stream.next("members");
        while (stream.nextComment(Duration.ZERO) != null) {
            // a heartbeat sent before the events start does not count
        }
        // events back to back for 4 s (each waits for the one before it to arrive): the 1 s heartbeat of
        // the tests is never due, as it waits for half a period of silence; one is tolerated, should the
        // machine stall for that long
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
        for (int i = 0; System.nanoTime() < until; i++) {
            broadcast(doc, "{\"n\":" + i + "}");
            assertEquals("broadcast", stream.next().event());
        }
        int heartbeats = 0;
        while (stream.nextComment(Duration.ZERO) != null) {
            heartbeats++;
        }
        assertTrue(heartbeats <= 1, heartbeats + " heartbeats between events");
        assertEquals("heartbeat", stream.nextComment(Duration.ofSeconds(5)), "silence brings them back");
    }

    @Test
    void badDocumentIdGets400WithTheErrorObject() {
        HttpResponse<String> sse = get("/sse/documents/bad%20doc");
        assertEquals(400, sse.statusCode());
        assertEquals("bad_request", json(sse.body()).get("code").asText());
        assertEquals("error", json(sse.body()).get("type").asText());
        HttpResponse<String> poll = get("/poll/documents/bad%20doc");
        assertEquals(400, poll.statusCode());
        assertEquals("bad_request", json(poll.body()).get("code").asText());
    }

    // ---- SSE: status ---------------------------------------------------------------------------------

    @Test
    void statusStreamSendsEachUsersStatusThenEveryChange() {
        String user = "w" + Long.toString(System.nanoTime(), 36);
        SseClient stream = sse("/sse/status?users=" + user + ",nobody-" + user);
        List<JsonNode> opening = List.of(json(stream.next("status").data()), json(stream.next("status").data()));
        assertTrue(opening.stream().noneMatch(s -> s.get("online").asBoolean()));

        WsClient client = ws("/ws?user=" + user);
        JsonNode online = json(stream.next("status").data());
        assertEquals(user, online.get("user").asText());
        assertTrue(online.get("online").asBoolean());

        client.close();
        JsonNode offline = json(stream.next("status").data());
        assertFalse(offline.get("online").asBoolean());
        assertTrue(offline.has("lastSeen"));
    }

    @Test
    void aQuietStatusStreamHearsAHeartbeat() {
        SseClient stream = sse("/sse/status?users=quiet-" + Long.toString(System.nanoTime(), 36));
        stream.next("status");
        assertEquals("heartbeat", stream.nextComment(Duration.ofSeconds(5)));
    }

    @Test
    void aClosedStatusStreamStopsFollowingItsUsers() {
        double before = gauge("copresence_status_observers");
        double streamsBefore = gauge("copresence_sse_streams");
        SseClient stream = sse("/sse/status?users=gone-" + Long.toString(System.nanoTime(), 36));
        stream.next("status");
        assertEquals(before + 1, gauge("copresence_status_observers"));
        assertEquals(streamsBefore + 1, gauge("copresence_sse_streams"), "the open stream is counted");
        stream.close();
        // nor is it checked for heartbeats any more
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> gauge("copresence_status_observers") == before && gauge("copresence_sse_streams") == streamsBefore);
    }

    /** As a watch of [], for a client following whoever is in a list that is empty now. */
    @Test
    void aStatusStreamOfAnEmptyListStaysOpenWithoutAStatus() {
        SseClient stream = sse("/sse/status?users=");
        assertEquals(200, stream.status());
        assertEquals("heartbeat", stream.nextComment(Duration.ofSeconds(5)));
        assertEquals(null, stream.poll(Duration.ZERO), "no status event came before the heartbeat");
    }

    @Test
    void statusStreamWithoutValidUsersGets400() {
        assertEquals(400, get("/sse/status").statusCode());
        HttpResponse<String> bad = get("/sse/status?users=a,b%20c");
        assertEquals(400, bad.statusCode());
        assertEquals("bad_request", json(bad.body()).get("code").asText());
    }

    // ---- long polling ----------------------------------------------------------------------------

    @Test
    void pollAnswersAtOnceWithTheEventsAfterSince() {
        String doc = doc();
        String first = broadcast(doc, "1");
        String second = broadcast(doc, "2");
        String third = broadcast(doc, "3");
        long start = System.nanoTime();
        JsonNode answer = json(get("/poll/documents/" + doc + "?since=" + first).body());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5));
        assertTrue(answer.get("resumed").asBoolean());
        assertEquals(2, answer.get("events").size());
        assertEquals(second, answer.get("events").get(0).get("offset").asText());
        assertEquals(third, answer.get("offset").asText());
    }

    @Test
    void pollWaitsForTheNextEventWhenNothingIsNewer() {
        String doc = doc();
        String first = broadcast(doc, "1");
        CompletableFuture<HttpResponse<String>> waiting = getAsync("/poll/documents/" + doc + "?since=" + first + "&timeout=20");
        // Give the poll time to be waiting, then publish: it must answer with that event.
        org.awaitility.Awaitility.await().pollDelay(Duration.ofMillis(300)).until(() -> true);
        assertFalse(waiting.isDone());
        String second = broadcast(doc, "2");
        JsonNode answer = json(waiting.orTimeout(10, TimeUnit.SECONDS).join().body());
        assertEquals(1, answer.get("events").size());
        assertEquals(second, answer.get("offset").asText());
    }

    @Test
    void pollWithoutSinceWaitsForTheNextEvent() {
        String doc = doc();
        broadcast(doc, "\"old\"");
        CompletableFuture<HttpResponse<String>> waiting = getAsync("/poll/documents/" + doc + "?timeout=20");
        org.awaitility.Awaitility.await().pollDelay(Duration.ofMillis(300)).until(() -> true);
        String next = broadcast(doc, "\"new\"");
        JsonNode answer = json(waiting.orTimeout(10, TimeUnit.SECONDS).join().body());
        assertEquals("new", answer.get("events").get(0).get("data").asText());
        assertEquals(next, answer.get("offset").asText());
    }

    @Test
    void pollAnswersAnEmptyListAfterTheTimeoutWithTheOffsetToGoOnFrom() {
        String doc = doc();
        String first = broadcast(doc, "1");
        long start = System.nanoTime();
        JsonNode answer = json(get("/poll/documents/" + doc + "?since=" + first + "&timeout=1").body());
        long took = System.nanoTime() - start;
        assertTrue(took >= TimeUnit.MILLISECONDS.toNanos(900), "waited " + took / 1_000_000 + " ms");
        assertEquals(0, answer.get("events").size());
        assertEquals(first, answer.get("offset").asText());
        assertTrue(answer.get("resumed").asBoolean());
    }

    @Test
    void pollWithTimeoutZeroAnswersAtOnceWithWhereTheDocumentStands() {
        String doc = doc();
        String first = broadcast(doc, "1");
        HttpResponse<String> response = get("/poll/documents/" + doc + "?timeout=0");
        assertEquals(200, response.statusCode(), response.body());
        JsonNode answer = json(response.body());
        assertEquals(0, answer.get("events").size());
        assertEquals(first, answer.get("offset").asText(), "the offset to poll on from");
        assertTrue(answer.get("resumed").asBoolean());
    }

    @Test
    void pollWithTimeoutZeroFromTheLastOffsetAnswersAtOnceWithNothing() {
        String doc = doc();
        String first = broadcast(doc, "1");
        HttpResponse<String> response = get("/poll/documents/" + doc + "?since=" + first + "&timeout=0");
        assertEquals(200, response.statusCode(), response.body());
        JsonNode answer = json(response.body());
        assertEquals(0, answer.get("events").size());
        assertEquals(first, answer.get("offset").asText());
        assertTrue(answer.get("resumed").asBoolean());
    }

    @Test
    void pollFromAnOffsetItCannotResumeFromAnswersAtOnceWithMembers() {
        String doc = doc();
        WsClient ada = ws("/ws?user=ada");
        join(ada, doc);
        for (String since : List.of("999999999-999", "x".repeat(300), "99999999999999999999-0")) {
            HttpResponse<String> response = get("/poll/documents/" + doc + "?since=" + since + "&timeout=20");
            assertEquals(200, response.statusCode(), since);
            JsonNode answer = json(response.body());
            assertFalse(answer.get("resumed").asBoolean(), since);
            assertEquals(0, answer.get("events").size());
            assertEquals(1, answer.get("members").size());
            assertNotNull(answer.get("offset").asText());
        }
    }

    @Test
    void aQuietDocumentResumesFromItsOffsetAfterOtherDocumentsMoved() {
        String quiet = doc();
        String from = json(get("/poll/documents/" + quiet + "?timeout=0").body()).get("offset").asText();
        RestBroadcast.send(base, doc(), "{\"elsewhere\":true}");
        JsonNode answer = json(get("/poll/documents/" + quiet + "?since=" + from + "&timeout=0").body());
        assertTrue(answer.get("resumed").asBoolean(), "nothing happened in it: nothing was missed");
        assertEquals(0, answer.get("events").size());
        String next = RestBroadcast.send(base, quiet, "{\"here\":true}");
        JsonNode after = json(get("/poll/documents/" + quiet + "?since=" + from + "&timeout=0").body());
        assertEquals(1, after.get("events").size());
        assertEquals(next, after.get("events").get(0).get("offset").asText());
    }

    @Test
    void pollRefusesATimeoutThatIsNotANumber() {
        HttpResponse<String> bad = get("/poll/documents/" + doc() + "?timeout=soon");
        assertEquals(400, bad.statusCode());
        assertEquals("bad_request", json(bad.body()).get("code").asText());
    }
}
