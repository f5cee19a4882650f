package dev.copresence.transport;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;

import dev.copresence.support.RestBroadcast;
import dev.copresence.support.SseClient;
import dev.copresence.support.WsClient;

/**
 * What a document hands a reader all at once (its members, its history) can be more than one
 * connection's send buffer. A reader that takes it is not a slow consumer: it gets all of it, over
 * every transport. Here the send buffer is 16 KiB, a document's members 20 KiB and its history 30 KiB.
 */
@QuarkusTest
@TestProfile(LargerThanTheSendBufferTest.SmallSendBuffer.class)
class LargerThanTheSendBufferTest {
    public static class SmallSendBuffer implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("copresence.limits.send-buffer", "16384", "copresence.limits.members-per-doc", "10");
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** A state of nearly 4 KiB, the most a member may have. */
    private static final String BIG_STATE = "{\"notes\":\"" + "x".repeat(4000) + "\"}";

    @TestHTTPResource("/")
    URI base;

    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : opened) {
            c.close();
        }
        opened.clear();
    }

    private WsClient connect() {
        WsClient client = WsClient.connect(WsClient.ws(base, "/ws"));
        opened.add(client);
        return client;
    }

    /** Five members of about 4 KiB each: 20 KiB of members. */
    private void fill(String doc) {
        for (int i = 0; i < 5; i++) {
            WsClient member = connect();
            member.send("{\"type\":\"join\",\"id\":1,\"doc\":\"" + doc + "\",\"state\":" + BIG_STATE + "}");
            member.untilType("joined");
        }
    }

    @Test
    void aJoinedLargerThanTheSendBufferReachesTheJoinerWhoStaysConnected() {
        String doc = "large-joined";
        fill(doc);
        WsClient joiner = connect();
        joiner.send("{\"type\":\"join\",\"id\":1,\"doc\":\"" + doc + "\"}");
        JsonNode joined = joiner.untilType("joined");
        assertEquals(6, joined.get("members").size(), "the five members and the joiner");
        joiner.send("{\"type\":\"join\",\"id\":2,\"doc\":\"" + doc + "\"}");
        assertEquals(6, joiner.untilType("joined").get("members").size(), "a join again answers the members again");
        joiner.send("{\"type\":\"ping\",\"id\":3}");
        assertEquals(3, joiner.untilType("pong").get("id").asInt());
        assertFalse(joiner.isClosed());
    }

    @Test
    void anEventStreamOpensWithMembersLargerThanTheSendBuffer() {
        String doc = "large-members-stream";
        fill(doc);
        SseClient stream = SseClient.open(base.resolve("/sse/documents/" + doc));
        opened.add(stream);
        SseClient.Event members = stream.next("members");
        assertEquals(5, JsonPath.from(members.data()).getList("members").size());
        String after = RestBroadcast.send(base, doc, "{\"n\":1}");
        assertEquals(after, stream.next("broadcast").id(), "and goes on with what follows");
    }

    @Test
    void aResumeLongerThanTheSendBufferReplaysEveryEventOnAnEventStream() {
        String doc = "large-resume-stream";
        String from = RestBroadcast.send(base, doc, "{\"n\":0}");
        List<String> offsets = broadcastHistory(doc);
        SseClient stream = SseClient.open(base.resolve("/sse/documents/" + doc), Map.of("Last-Event-ID", from));
        opened.add(stream);
        for (String offset : offsets) {
            assertEquals(offset, stream.next("broadcast").id());
        }
    }

    @Test
    void aLongPollAnswerStopsAtTheSendBufferAndTheNextPollHasTheRest() throws Exception {
        String doc = "large-poll";
        String from = RestBroadcast.send(base, doc, "{\"n\":0}");
        List<String> offsets = broadcastHistory(doc);
        List<String> received = new ArrayList<>();
        String since = from;
        int polls = 0;
        while (received.size() < offsets.size() && polls++ < offsets.size()) {
            String body = given().get("/poll/documents/" + doc + "?timeout=0&since=" + since).then().statusCode(200)
                    .extract().asString();
            assertTrue(body.length() < 16384 + 4000, "an answer holds about the send buffer, not the history: " + body.length());
            JsonNode answer = JSON.readTree(body);
            assertTrue(answer.get("resumed").asBoolean());
            for (JsonNode event : answer.get("events")) {
                received.add(event.get("offset").asText());
            }
            assertEquals(received.get(received.size() - 1), answer.get("offset").asText(),
                    "a cut answer's offset is its last event's");
            since = answer.get("offset").asText();
        }
        assertTrue(polls > 1, "30 KiB of events do not fit one answer");
        assertEquals(offsets, received, "every event once, in order");
    }

    /** Ten broadcasts of 3,000 characters: 30 KiB of history. */
    private List<String> broadcastHistory(String doc) {
        List<String> offsets = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            offsets.add(RestBroadcast.send(base, doc, "{\"n\":" + i + ",\"text\":\"" + "y".repeat(3000) + "\"}"));
        }
        return offsets;
    }
}
