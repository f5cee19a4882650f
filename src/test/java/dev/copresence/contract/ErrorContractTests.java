package dev.copresence.contract;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.copresence.support.RawWebSocket;
import dev.copresence.support.WsClient;

/**
 * The contract's "Errors" and limits: each error code, the bad-message count, and the close codes
 * a client can provoke. A refused message changes no state.
 */
public abstract class ErrorContractTests extends ContractTests {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode error(WsClient client, String frame) {
        client.send(frame);
        return client.next("error");
    }

    @Test
    void notJsonIsBadJson() {
        WsClient client = connect();
        JsonNode error = error(client, "{\"type\":\"join\",");
        assertEquals("bad_json", error.get("code").asText());
        assertFalse(error.get("message").asText().isBlank());
    }

    @Test
    void aMessageOfUnknownTypeIsUnknownTypeWithItsId() {
        WsClient client = connect();
        JsonNode error = error(client, "{\"type\":\"dance\",\"id\":42}");
        assertEquals("unknown_type", error.get("code").asText());
        assertEquals(42, error.get("id").asInt());
    }

    @Test
    void wrongFieldTypesAreBadRequest() {
        WsClient client = connect();
        String doc = doc();
        for (String frame : new String[] {
                "[1,2]", "{\"id\":1}", "{\"type\":1}",
                "{\"type\":\"join\",\"doc\":5}", "{\"type\":\"join\",\"doc\":\"bad doc\"}",
                "{\"type\":\"join\",\"doc\":\"" + doc + "\",\"state\":[1]}",
                "{\"type\":\"join\",\"doc\":\"" + doc + "\",\"user\":{\"id\":\"bad id\"}}",
                "{\"type\":\"join\",\"doc\":\"" + doc + "\",\"since\":5}",
                "{\"type\":\"join\"}", "{\"type\":\"typing\",\"doc\":\"" + doc + "\",\"typing\":\"yes\"}",
                "{\"type\":\"watch\",\"users\":null}", "{\"type\":\"watch\",\"users\":\"u1\"}",
                "{\"type\":\"ping\",\"id\":{\"x\":1}}", "{\"type\":\"signal\",\"doc\":\"" + doc + "\",\"data\":1}" }) {
            JsonNode error = error(client, frame);
            assertEquals("bad_request", error.get("code").asText(), frame);
            client.send("{\"type\":\"ping\",\"id\":\"ok\"}");
            client.next("pong");
        }
        given().get("/api/documents/" + doc + "/members").then().body("members.size()", equalTo(0));
    }

    @Test
    void aBinaryFrameIsBadRequestAndTheConnectionStaysOpen() {
        WsClient client = connect();
        client.sendBinary("{\"type\":\"ping\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals("bad_request", client.next("error").get("code").asText());
        client.send("{\"type\":\"ping\",\"id\":1}");
        assertEquals(1, client.next("pong").get("id").asInt());
    }

    @Test
    void theTwentiethBadMessageInARowClosesWith1008() {
        WsClient client = connect();
        for (int i = 0; i < 19; i++) {
            assertEquals("bad_json", error(client, "nope").get("code").asText());
        }
        client.send("{\"type\":\"ping\",\"id\":1}");
        client.next("pong");
        for (int i = 0; i < 19; i++) {
            error(client, "nope");
        }
        assertFalse(client.isClosed(), "a success reset the count");
        error(client, "{\"type\":\"unknown\"}");
        assertEquals(1008, client.awaitClose());
    }

    @Test
    void aMessageOverTheSizeLimitClosesWith1009() {
        WsClient client = connect();
        client.send("{\"type\":\"broadcast\",\"doc\":\"d\",\"data\":\"" + "x".repeat(70 * 1024) + "\"}");
        assertEquals(1009, client.awaitClose());
    }

    @Test
    void theSixtyFifthDocumentIsTooManyDocs() {
        WsClient client = connect();
        for (int i = 0; i < 64; i++) {
            join(client, doc());
        }
        String doc = doc();
        JsonNode error = error(client, "{\"type\":\"join\",\"id\":65,\"doc\":\"" + doc + "\"}");
        assertEquals("too_many_docs", error.get("code").asText());
        assertEquals(65, error.get("id").asInt());
        given().get("/api/documents/" + doc + "/members").then().body("members.size()", equalTo(0));
    }

    @Test
    void aFullDocumentIsDocFull() {
        String doc = doc();
        for (int i = 0; i < 4; i++) {
            join(connect(), doc);
        }
        WsClient late = connect();
        JsonNode error = error(late, "{\"type\":\"join\",\"id\":5,\"doc\":\"" + doc + "\"}");
        assertEquals("doc_full", error.get("code").asText());
        given().get("/api/documents/" + doc + "/members").then().body("members.size()", equalTo(4));
        late.send("{\"type\":\"update\",\"id\":6,\"doc\":\"" + doc + "\",\"state\":{}}");
        assertEquals("not_joined", late.next("error").get("code").asText());
    }

    @Test
    void aBoundEndpointRefusedForADocumentOfTheLongestIdIsClosedWithItsCode() {
        // the close names the document: a reason past 123 bytes made a close frame that clients
        // reject (RFC 6455 §5.5), so they saw the connection fail (1006) rather than its code
        String doc = (doc() + "-" + "d".repeat(128)).substring(0, 128);
        for (int i = 0; i < 4; i++) {
            join(connect(), doc);
        }
        WsClient late = connect("/ws/documents/" + doc);
        assertEquals("doc_full", late.next("error").get("code").asText());
        assertEquals(1013, late.awaitClose());
    }

    @Test
    void aFloodIsRateLimitedAndNotApplied() {
        String doc = doc();
        WsClient flooder = connect();
        join(flooder, doc);
        WsClient bob = connect();
        join(bob, doc);
        flooder.next("presence");
        int sent = 320;
        for (int i = 0; i < sent; i++) {
            flooder.send("{\"type\":\"broadcast\",\"id\":" + i + ",\"doc\":\"" + doc + "\",\"data\":" + i + "}");
        }
        int acks = 0;
        int limited = 0;
        java.util.Set<Integer> answered = new java.util.TreeSet<>();
        for (int i = 0; i < sent; i++) {
            JsonNode answer = flooder.next();
            if ("ack".equals(answer.get("type").asText())) {
                acks++;
            } else {
                assertEquals("rate_limited", answer.get("code").asText());
                limited++;
            }
            // whether the rate or the queue of waiting messages refused it: the contract echoes the id
            assertTrue(answer.has("id") && answered.add(answer.get("id").asInt()), "each id answered once: " + answer);
        }
        assertTrue(limited > 0, "a burst over 200 is limited");
        assertEquals(sent, acks + limited);
        assertEquals(sent, answered.size());
        int delivered = 0;
        while (delivered < acks) {
            bob.next("broadcast");
            delivered++;
        }
        assertTrue(bob.drain().isEmpty(), "limited broadcasts were not applied");
    }

    /**
     * "Burst 200": a client that sends its whole burst in one write is served whole, also when the
     * first message is a join that waits for the registry and the rest queue behind it. (Large
     * broadcasts first, so that the server's reads grow large enough to take the burst in one.)
     */
    @Test
    void aWholeBurstSentInOneWriteBehindAJoinIsServed() {
        String doc = doc();
        try (RawWebSocket client = RawWebSocket.connect(base, "/ws")) {
            client.text("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
            assertEquals("joined", type(client.nextText()));
            String big = "x".repeat(60_000);
            for (int i = 0; i < 3; i++) {
                client.text("{\"type\":\"broadcast\",\"id\":\"big\",\"doc\":\"" + doc + "\",\"data\":\"" + big + "\"}");
                assertEquals("ack", type(client.nextText()));
            }
            // 4 tokens spent of 200: a second join and 195 pings are the rest of the burst
            List<String> burst = new ArrayList<>();
            burst.add("{\"type\":\"join\",\"doc\":\"" + doc() + "\"}");
            for (int i = 0; i < 195; i++) {
                burst.add("{\"type\":\"ping\",\"id\":" + i + "}");
            }
            client.texts(burst);
            assertEquals("joined", type(client.nextText()));
            for (int i = 0; i < 195; i++) {
                String answer = client.nextText();
                assertEquals("pong", type(answer), "answer " + i + " of the burst: " + answer);
            }
        }
    }

    private static String type(String text) {
        try {
            return JSON.readTree(text).path("type").asText();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(text, e);
        }
    }

    @Test
    void anUnknownDocumentIsEmptyNotAnError() {
        given().get("/api/documents/" + doc() + "/members").then().statusCode(200).body("members", org.hamcrest.Matchers.empty());
    }
}
