package dev.copresence.hostile;

import static io.restassured.RestAssured.given;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.oneOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

import dev.copresence.support.RawWebSocket;
import dev.copresence.support.WsClient;

/**
 * A live server (in-memory registry) under hostile input. For every attack: each bad message is
 * answered by exactly one {@code error} and the connection survives (fewer than 20 bad in a row),
 * the 20th bad message in a row closes with 1008, and nothing changes: a witness that is a member of
 * the attacked document receives nothing, and the REST API shows the same members.
 */
@QuarkusTest
class HostileInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger DOCS = new AtomicInteger();

    @TestHTTPResource("/")
    URI base;

    private final List<AutoCloseable> clients = new ArrayList<>();

    @AfterEach
    void closeClients() throws Exception {
        for (AutoCloseable c : clients) {
            c.close();
        }
        clients.clear();
    }

    private static String doc() {
        return "hostile-" + DOCS.incrementAndGet() + "-" + Long.toString(System.nanoTime(), 36);
    }

    private WsClient connect(String pathAndQuery) {
        WsClient client = WsClient.connect(WsClient.ws(base, pathAndQuery));
        clients.add(client);
        return client;
    }

    private WsClient connect() {
        return connect("/ws");
    }

    private RawWebSocket raw(String pathAndQuery) {
        RawWebSocket ws = RawWebSocket.connect(base, pathAndQuery);
        clients.add(ws);
        return ws;
    }

    /** The attacked document and its one legitimate member, which must see nothing. */
    private record Target(String doc, WsClient witness, String witnessId) {
    }

    private Target target() {
        String doc = doc();
        WsClient witness = connect("/ws?user=witness&name=W");
        witness.send("{\"type\":\"join\",\"id\":\"w\",\"doc\":\"" + doc + "\",\"state\":{\"w\":1}}");
        JsonNode joined = witness.next("joined");
        return new Target(doc, witness, joined.get("self").asText());
    }

    /** Nothing reached the witness, and the document still has exactly the witness, unchanged. */
    private static void assertUntouched(Target t) {
        assertEquals(List.of(), t.witness().drain(), "the witness must receive nothing");
        given().get("/api/documents/" + t.doc() + "/members").then().statusCode(200)
                .body("members.size()", equalTo(1))
                .body("members[0].id", equalTo(t.witnessId()))
                .body("members[0].user.id", equalTo("witness"))
                .body("members[0].state.w", equalTo(1))
                .body("members[0].typing", equalTo(false));
    }

    private static void assertOffline(String user) {
        given().get("/api/status?users=" + user).then().statusCode(200)
                .body("[0].user", equalTo(user)).body("[0].online", equalTo(false));
    }

    private static String clip(String frame) {
        return frame.length() > 120 ? frame.substring(0, 120) + "…(" + frame.length() + " chars)" : frame;
    }

    /** One hostile frame and what it must be answered with; {@code id} null: the error has no id. */
    private record Bad(String frame, String code, JsonNode id) {
        static Bad of(String frame, String code) {
            return new Bad(frame, code, null);
        }

        static Bad of(String frame, String code, Object id) {
            return new Bad(frame, code, JSON.valueToTree(id));
        }
    }

    private static List<Bad> all(String code, List<String> frames) {
        return frames.stream().map(f -> Bad.of(f, code)).toList();
    }

    private static JsonNode answerTo(WsClient client, Bad bad) {
        client.send(bad.frame());
        JsonNode answer = client.next();
        assertEquals("error", answer.path("type").asText(), () -> clip(bad.frame()) + " answered " + answer);
        assertEquals(bad.code(), answer.path("code").asText(), () -> clip(bad.frame()) + " answered " + answer);
        if (bad.id() == null) {
            assertFalse(answer.has("id"), () -> clip(bad.frame()) + ": the error cannot echo an unusable id: " + answer);
        } else {
            assertEquals(bad.id(), answer.get("id"), () -> clip(bad.frame()) + ": the id is echoed");
        }
        assertFalse(answer.path("message").asText().isBlank());
        assertThat("an error is not an amplifier", answer.path("message").asText().length(), lessThan(1024));
        return answer;
    }

    /**
     * Sends each frame and expects exactly one error for it; every 10 frames (well under the 20 that
     * close) a ping barrier shows that nothing else was sent and resets the count of bad messages.
     */
    private static void expectErrors(WsClient client, List<Bad> frames) {
        int inRow = 0;
        for (Bad bad : frames) {
            answerTo(client, bad);
            if (++inRow == 10) {
                assertEquals(List.of(), client.drain(), "one error per bad message, nothing else");
                inRow = 0;
            }
        }
        assertEquals(List.of(), client.drain(), "the connection survives and answers a ping");
        assertFalse(client.isClosed());
    }

    private static String join(String doc, String extra) {
        return "{\"type\":\"join\",\"id\":\"j\",\"doc\":\"" + doc + "\"" + extra + "}";
    }

    // ---- binary frames --------------------------------------------------------------------------

    @Test
    void binaryFramesAreBadRequestAndChangeNothing() {
        Target t = target();
        WsClient attacker = connect();
        byte[] join = join(t.doc(), "").getBytes(StandardCharsets.UTF_8);
        byte[] garbage = new byte[60_000];
        new java.util.Random(7).nextBytes(garbage);
        List<byte[]> payloads = List.of(new byte[0], new byte[] { (byte) 0xFF, 0, 1 }, join, garbage,
                "{\"type\":\"ping\",\"id\":1}".getBytes(StandardCharsets.UTF_8));
        int inRow = 0;
        for (byte[] payload : payloads) {
            attacker.sendBinary(payload);
            JsonNode error = attacker.next("error");
            assertEquals("bad_request", error.get("code").asText());
            assertFalse(error.has("id"), "a binary frame is not read, so there is no id to echo");
            inRow++;
        }
        assertTrue(inRow < 20);
        assertEquals(List.of(), attacker.drain());
        assertUntouched(t);
    }

    // ---- malformed JSON -------------------------------------------------------------------------

    @Test
    void everyTruncationOfAJoinIsBadJsonAndJoinsNothing() {
        Target t = target();
        WsClient attacker = connect();
        String whole = join(t.doc(), ",\"state\":{\"a\":[1,true,null,\"é\"]},\"user\":{\"id\":\"mallory\",\"name\":\"M\"}");
        List<String> prefixes = new ArrayList<>();
        for (int i = 0; i < whole.length(); i++) {
            prefixes.add(whole.substring(0, i));
        }
        expectErrors(attacker, all("bad_json", prefixes));
        assertUntouched(t);
        assertOffline("mallory");
    }

    @Test
    void trailingGarbageAndDuplicateKeysAreBadJson() {
        Target t = target();
        WsClient attacker = connect();
        String j = join(t.doc(), "");
        expectErrors(attacker, all("bad_json", List.of(j + "x", j + j, j + "}", j + "[]", j + "\u0000", j + "//c",
                "{\"type\":\"join\",\"type\":\"join\",\"doc\":\"" + t.doc() + "\"}",
                "{\"type\":\"join\",\"doc\":\"nope\",\"doc\":\"" + t.doc() + "\"}",
                join(t.doc(), ",\"state\":{\"a\":1,\"a\":2}"), join(t.doc(), ",\"user\":{\"id\":\"a\",\"id\":\"b\"}"),
                "{'type':'join','doc':'" + t.doc() + "'}", "{type:\"join\",doc:\"" + t.doc() + "\"}",
                join(t.doc(), ",\"state\":{\"n\":NaN}"), join(t.doc(), ",\"state\":{\"n\":Infinity}"),
                join(t.doc(), ",\"state\":{\"n\":0x10}"), join(t.doc(), ",\"state\":{\"n\":01}"),
                join(t.doc(), ",\"state\":{\"n\":" + "9".repeat(1500) + "}"), join(t.doc(), ",")))); // numbers over Jackson's length limit
        assertUntouched(t);
    }

    // ---- wrong field types, unknown types, huge strings -----------------------------------------

    @Test
    void wrongFieldTypesAreBadRequestWithTheirId() {
        Target t = target();
        WsClient attacker = connect();
        String d = "\"doc\":\"" + t.doc() + "\"";
        List<String> frames = List.of(
                "{\"type\":\"join\",\"id\":7,\"doc\":7}", "{\"type\":\"join\",\"id\":7,\"doc\":[\"" + t.doc() + "\"]}",
                "{\"type\":\"join\",\"id\":7,\"doc\":{\"id\":\"" + t.doc() + "\"}}", "{\"type\":\"join\",\"id\":7,\"doc\":true}",
                "{\"type\":\"join\",\"id\":7," + d + ",\"state\":[1]}", "{\"type\":\"join\",\"id\":7," + d + ",\"state\":\"{}\"}",
                "{\"type\":\"join\",\"id\":7," + d + ",\"state\":1}", "{\"type\":\"join\",\"id\":7," + d + ",\"user\":\"mallory\"}",
                "{\"type\":\"join\",\"id\":7," + d + ",\"user\":[\"mallory\"]}", "{\"type\":\"join\",\"id\":7," + d + ",\"user\":{\"name\":\"M\"}}",
                "{\"type\":\"join\",\"id\":7," + d + ",\"user\":{\"id\":1}}",
                "{\"type\":\"join\",\"id\":7," + d + ",\"user\":{\"id\":\"mallory\",\"name\":{}}}",
                "{\"type\":\"join\",\"id\":7," + d + ",\"since\":1}", "{\"type\":\"join\",\"id\":7," + d + ",\"since\":[\"1\"]}",
                "{\"type\":\"update\",\"id\":7," + d + ",\"state\":[]}", "{\"type\":\"typing\",\"id\":7," + d + ",\"typing\":\"true\"}",
                "{\"type\":\"typing\",\"id\":7," + d + ",\"typing\":null}", "{\"type\":\"broadcast\",\"id\":7," + d + "}",
                "{\"type\":\"broadcast\",\"id\":7," + d + ",\"data\":1,\"echo\":1}",
                "{\"type\":\"signal\",\"id\":7," + d + ",\"to\":\"" + t.witnessId() + "\"}",
                "{\"type\":\"signal\",\"id\":7," + d + ",\"to\":[\"" + t.witnessId() + "\"],\"data\":1}",
                "{\"type\":\"watch\",\"id\":7,\"users\":{\"0\":\"witness\"}}", "{\"type\":\"watch\",\"id\":7,\"users\":[[\"witness\"]]}",
                "{\"type\":\"unwatch\",\"id\":7,\"users\":null}", "{\"type\":\"leave\",\"id\":7,\"doc\":1}",
                "{\"type\":\"auth\",\"id\":7,\"token\":{}}", "{\"type\":7,\"id\":7}", "{\"type\":null,\"id\":7}",
                "{\"type\":{\"name\":\"join\"},\"id\":7}", "{\"id\":7," + d + "}");
        expectErrors(attacker, frames.stream().map(f -> Bad.of(f, "bad_request", 7)).toList());
        expectErrors(attacker, all("bad_request", List.of("[]", "[" + join(t.doc(), "") + "]", "\"join\"", "1", "null", "true")));
        assertUntouched(t);
        assertOffline("mallory");
    }

    @Test
    void unknownTypesAreUnknownType() {
        Target t = target();
        WsClient attacker = connect();
        List<Bad> frames = new ArrayList<>();
        for (String type : new String[] { "", "JOIN", "Join", "join ", " join", "join\\u0000", "jo\\u0069n2", "joined", "presence",
                "members", "pong", "ack", "error", "__proto__", "constructor", "toString", "../join", "日本", "z".repeat(60_000) }) {
            frames.add(Bad.of("{\"type\":\"" + type + "\",\"id\":\"u\"," + "\"doc\":\"" + t.doc() + "\"}", "unknown_type", "u"));
        }
        expectErrors(attacker, frames);
        assertUntouched(t);
    }

    @Test
    void hugeStringsAreRefusedWithShortErrors() {
        Target t = target();
        WsClient attacker = connect();
        String huge = "a".repeat(60_000);
        String d = "\"doc\":\"" + t.doc() + "\"";
        // (a huge since is not among them: it is an offset never issued, so the join is not resumed,
        // as the contract asks: ContractTests.resumeFromAnOffsetNeverIssuedGivesResumedFalse)
        expectErrors(attacker, List.of(
                Bad.of("{\"type\":\"join\",\"id\":1,\"doc\":\"" + huge + "\"}", "bad_request", 1),
                Bad.of("{\"type\":\"join\",\"id\":1," + d + ",\"user\":{\"id\":\"" + huge + "\"}}", "bad_request", 1),
                Bad.of("{\"type\":\"join\",\"id\":1," + d + ",\"user\":{\"id\":\"mallory\",\"name\":\"" + huge + "\"}}", "bad_request", 1),
                Bad.of("{\"type\":\"signal\",\"id\":1," + d + ",\"to\":\"" + huge + "\",\"data\":1}", "bad_request", 1),
                Bad.of("{\"type\":\"watch\",\"id\":1,\"users\":[\"" + huge + "\"]}", "bad_request", 1),
                Bad.of("{\"type\":\"leave\",\"id\":1,\"doc\":\"" + huge + "\"}", "bad_request", 1),
                Bad.of("{\"type\":\"ping\",\"id\":\"" + huge + "\"}", "bad_request"),
                Bad.of("{\"type\":\"" + huge + "\",\"id\":1}", "unknown_type", 1),
                Bad.of("{\"" + huge + "\":1}", "bad_json"), // over Jackson's name length limit: not read as JSON
                Bad.of("\"" + huge, "bad_json")));
        // a state that fits the message limit but not the state limit is too_large, not bad, and not applied
        WsClient other = connect();
        JsonNode tooLarge = answerTo(other, Bad.of(join(t.doc(), ",\"state\":{\"big\":\"" + "b".repeat(5000) + "\"}"), "too_large", "j"));
        assertEquals("j", tooLarge.get("id").asText());
        StringBuilder users = new StringBuilder("\"u0\"");
        for (int i = 1; i <= 1000; i++) {
            users.append(",\"u").append(i).append('"');
        }
        answerTo(other, Bad.of("{\"type\":\"watch\",\"id\":2,\"users\":[" + users + "]}", "bad_request", 2));
        assertEquals(List.of(), other.drain());
        assertUntouched(t);
    }

    // ---- deep nesting ---------------------------------------------------------------------------

    @Test
    void jsonNestedTenThousandDeepIsBadJsonAndTheServerSurvives() {
        Target t = target();
        WsClient attacker = connect();
        String arrays = "[".repeat(10_000) + "]".repeat(10_000);
        String objects = "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000);
        List<String> frames = List.of(arrays, objects, "[".repeat(60_000),
                join(t.doc(), ",\"state\":" + objects),
                join(t.doc(), ",\"state\":{\"a\":" + arrays + "}"),
                "{\"type\":\"broadcast\",\"doc\":\"" + t.doc() + "\",\"data\":" + arrays + "}",
                "{\"type\":\"ping\",\"id\":" + arrays + "}");
        for (String f : frames) {
            assertThat(f.getBytes(StandardCharsets.UTF_8).length, lessThan(64 * 1024));
        }
        expectErrors(attacker, all("bad_json", frames));
        assertUntouched(t);
    }

    // ---- control characters ---------------------------------------------------------------------

    @Test
    void rawControlCharactersAreBadJsonAndEscapedOnesInIdsAreBadRequest() {
        Target t = target();
        WsClient attacker = connect();
        List<String> raw = new ArrayList<>();
        for (char c : new char[] { 0, 1, 7, 8, '\t', '\n', '\r', 0x1b, 0x1f }) {
            raw.add(join(t.doc(), ",\"state\":{\"k\":\"a" + c + "b\"}"));
            raw.add("{\"type\":\"join\",\"doc\":\"" + t.doc() + c + "\"}");
        }
        for (char c : new char[] { 0, 1, 0x0b, 0x0c, 0x1f, 0x7f }) {
            raw.add(c + join(t.doc(), ""));
        }
        raw.add("\uFEFF\uFEFF" + join(t.doc(), ""));
        expectErrors(attacker, all("bad_json", raw));
        List<Bad> escaped = new ArrayList<>();
        for (String esc : new String[] { "\\u0000", "\\u0001", "\\n", "\\r", "\\t", "\\u001b", "\\u007f", "\\u0085", "\\u2028" }) {
            escaped.add(Bad.of("{\"type\":\"join\",\"id\":1,\"doc\":\"" + t.doc() + esc + "\"}", "bad_request", 1));
            escaped.add(Bad.of(join(t.doc(), ",\"user\":{\"id\":\"mallory" + esc + "\"}"), "bad_request", "j"));
            escaped.add(Bad.of("{\"type\":\"watch\",\"id\":1,\"users\":[\"witness" + esc + "\"]}", "bad_request", 1));
        }
        expectErrors(attacker, escaped);
        assertUntouched(t);
        assertOffline("mallory");
    }

    @Test
    void whitespaceBetweenTokensIsFine() {
        WsClient client = connect();
        client.send(" \t\r\n{ \"type\" :\n\"ping\" ,\t\"id\" : 1 }\r\n ");
        assertEquals(1, client.next("pong").get("id").asInt());
    }

    // ---- ids of every kind ----------------------------------------------------------------------

    @Test
    void usableIdsAreEchoedExactly() {
        WsClient client = connect();
        for (String id : new String[] { "-1", "0", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
                "123456789012345678901234567890", "1.5", "-0.25", "\"\"", "\"" + "x".repeat(128) + "\"",
                "\"日本語🙂\"", "\"\\\"}{\\\\\"", "\"\\u0000\\n\"", "\"</script>\"", "\"__proto__\"" }) {
            client.send("{\"type\":\"ping\",\"id\":" + id + "}");
            JsonNode pong = client.next("pong");
            assertEquals(readTree(id), pong.get("id"), "id " + id);
        }
    }

    @Test
    void unusableIdsAreBadRequestWithoutIdAndTheMessageIsNotApplied() {
        Target t = target();
        WsClient attacker = connect();
        List<Bad> frames = new ArrayList<>();
        for (String id : new String[] { "1" + "0".repeat(300), "-1" + "0".repeat(128), "1e400", "-1e400", "{\"a\":1}", "{}", "[]", "[1]", "true", "false", "null", "\"" + "x".repeat(129) + "\"",
                "\"" + "é".repeat(129) + "\"" }) {
            frames.add(Bad.of("{\"type\":\"join\",\"id\":" + id + ",\"doc\":\"" + t.doc() + "\",\"user\":{\"id\":\"ghost\"}}",
                    "bad_request"));
            frames.add(Bad.of("{\"type\":\"ping\",\"id\":" + id + "}", "bad_request"));
        }
        expectErrors(attacker, frames);
        assertUntouched(t);
        assertOffline("ghost");
    }

    // ---- identifiers outside [A-Za-z0-9._:-]{1,128} ---------------------------------------------

    /** JSON string contents (escaped as in a frame) of doc and user ids the contract forbids. */
    private static final String[] BAD_IDS = { "", "a".repeat(129), " ", "a b", " a", "a ", "a/b", "../etc", "a\\\\b", "é", "日本", "ａ",
            "a\\u200bb", "🙂", "{x}", "{", "}", "a{b}c", "}{", "{tag}:doc", "a*", "a?", "a#b", "a%2Fb", "a+b", "a,b", "a;b",
            "a\\\"b", "a'b", "a<b>", "a\\u0000b", "a\\nb", "abc\\n", "a@b", "a$b", "a|b", "a=b", "a~b" };

    @Test
    void docAndUserIdsOutsideTheAlphabetAreBadRequest() {
        Target t = target();
        WsClient attacker = connect();
        List<Bad> frames = new ArrayList<>();
        for (String bad : BAD_IDS) {
            frames.add(Bad.of("{\"type\":\"join\",\"id\":1,\"doc\":\"" + bad + "\"}", "bad_request", 1));
            frames.add(Bad.of("{\"type\":\"join\",\"id\":2,\"doc\":\"" + t.doc() + "\",\"user\":{\"id\":\"" + bad + "\"}}",
                    "bad_request", 2));
            frames.add(Bad.of("{\"type\":\"watch\",\"id\":3,\"users\":[\"witness\",\"" + bad + "\"]}", "bad_request", 3));
            frames.add(Bad.of("{\"type\":\"leave\",\"id\":4,\"doc\":\"" + bad + "\"}", "bad_request", 4));
            frames.add(Bad.of("{\"type\":\"broadcast\",\"id\":5,\"doc\":\"" + bad + "\",\"data\":1}", "bad_request", 5));
            frames.add(Bad.of("{\"type\":\"signal\",\"id\":6,\"doc\":\"" + t.doc() + "\",\"to\":\"" + bad + "\",\"data\":1}",
                    "bad_request", 6));
        }
        expectErrors(attacker, frames);
        assertUntouched(t);
        // a watch refused as a whole watches nobody: the witness going away sends this client nothing
        assertEquals(List.of(), attacker.drain());
    }

    @Test
    void badIdsAreRefusedOverHttpAndAtTheUpgrade() {
        for (String escaped : BAD_IDS) {
            String id = readTree("\"" + escaped + "\"").asText();
            if (id.isEmpty()) {
                continue; // an empty path segment is another route
            }
            String encoded = URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
            int members = given().urlEncodingEnabled(false).get("/api/documents/" + encoded + "/members").statusCode();
            int bound;
            String boundBody;
            try (RawWebSocket ws = RawWebSocket.connect(base, "/ws/documents/" + encoded)) {
                bound = ws.status();
                boundBody = ws.refusalBody();
            }
            int named;
            try (RawWebSocket ws = RawWebSocket.connect(base, "/ws?user=" + encoded)) {
                named = ws.status();
                // the contract's HTTP errors carry the error object, a refused upgrade's too
                assertEquals("bad_request", readTree(ws.refusalBody()).path("code").asText(), "upgrade as user " + id);
            }
            // the status list is comma-separated, each entry exactly a user id ("a,b" names two valid users)
            boolean validList = Arrays.stream(id.split(",", -1)).allMatch(u -> u.matches("[A-Za-z0-9._:-]{1,128}"));
            given().urlEncodingEnabled(false).get("/api/status?users=" + encoded).then().statusCode(validList ? 200 : 400);
            if (id.contains("/")) {
                assertThat("members of " + id, members, oneOf(400, 404));
                assertThat("bound upgrade to " + id, bound, oneOf(400, 404));
            } else {
                assertEquals(400, members, "members of " + id);
                assertEquals(400, bound, "bound upgrade to " + id);
                assertEquals("bad_request", readTree(boundBody).path("code").asText(), "bound upgrade to " + id);
            }
            assertEquals(400, named, "upgrade as user " + id);
        }
    }

    @Test
    void aPlainRequestToAWebSocketEndpointIsToldToUpgrade() {
        for (String path : List.of("/ws", "/ws/documents/notes-42", "/ws/documents/a*b")) {
            given().get(path).then().statusCode(426).header("Upgrade", "websocket")
                    .body("type", equalTo("error")).body("code", equalTo("bad_request"));
        }
    }

    @Test
    void idsAtTheEdgeOfTheAlphabetWork() {
        WsClient client = connect();
        String longest = "Az09._:-" + "x".repeat(120);
        client.send(join(longest, ",\"user\":{\"id\":\"" + longest + "\"}"));
        assertEquals(longest, client.next("joined").get("doc").asText());
        given().get("/api/documents/" + longest + "/members").then().body("members[0].user.id", equalTo(longest));
    }

    // ---- the bad-message count ------------------------------------------------------------------

    private static void sendBad(WsClient client, int i, String doc) {
        switch (i % 5) {
            case 0 -> client.sendBinary(new byte[] { 1, 2, 3 });
            case 1 -> client.send("{\"type\":\"join\",");
            case 2 -> client.send("{\"type\":\"join\",\"id\":1e400,\"doc\":\"" + doc + "\"}");
            case 3 -> client.send("{\"type\":\"teleport\",\"doc\":\"" + doc + "\"}");
            default -> client.send("{\"type\":\"join\",\"doc\":\"{" + doc + "}\"}");
        }
    }

    @Test
    void nineteenBadMessagesOfAnyKindLeaveTheConnectionOpenAndTheTwentiethClosesWith1008() {
        Target t = target();
        WsClient attacker = connect();
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 19; i++) {
                sendBad(attacker, i + round, t.doc());
                assertThat(attacker.next("error").get("code").asText(), oneOf("bad_json", "bad_request", "unknown_type"));
            }
            attacker.send("{\"type\":\"ping\",\"id\":" + round + "}");
            assertEquals(round, attacker.next("pong").get("id").asInt(), "after 19 bad in a row a ping still answers");
        }
        for (int i = 0; i < 19; i++) {
            sendBad(attacker, i, t.doc());
            attacker.next("error");
        }
        assertFalse(attacker.isClosed());
        sendBad(attacker, 3, t.doc());
        assertEquals("unknown_type", attacker.next("error").get("code").asText(), "the 20th gets its error first");
        assertEquals(1008, attacker.awaitClose());
        assertUntouched(t);
    }

    @Test
    void theTwentiethBadFrameClosesEvenWhenItIsBinary() {
        WsClient attacker = connect();
        for (int i = 0; i < 19; i++) {
            attacker.send("x");
            attacker.next("error");
        }
        attacker.sendBinary(new byte[] { 0 });
        assertEquals("bad_request", attacker.next("error").get("code").asText());
        assertEquals(1008, attacker.awaitClose());
    }

    // ---- a member's own bad messages change nothing ---------------------------------------------

    @Test
    void aMembersBadMessagesChangeNothing() {
        Target t = target();
        WsClient member = connect("/ws?user=mallory");
        member.send(join(t.doc(), ",\"state\":{\"v\":1}"));
        String self = member.next("joined").get("self").asText();
        assertEquals(self, t.witness().next("presence").at("/member/id").asText());
        String d = "\"doc\":\"" + t.doc() + "\"";
        expectErrors(member, List.of(
                Bad.of("{\"type\":\"update\",\"id\":1e400," + d + ",\"state\":{\"v\":2}}", "bad_request"),
                Bad.of("{\"type\":\"update\",\"id\":1," + d + ",\"state\":{\"v\":2},\"doc\":\"x\"}", "bad_json"),
                Bad.of("{\"type\":\"update\"," + d + ",\"state\":{\"v\":2,\"v\":3}}", "bad_json"),
                Bad.of("{\"type\":\"update\"," + d + ",\"state\":{\"v\":2}}}", "bad_json"),
                Bad.of("{\"type\":\"update\"," + d + ",\"state\":{\"v\":" + "[".repeat(100) + "]".repeat(100) + "}}", "bad_json"),
                Bad.of("{\"type\":\"typing\",\"id\":[1]," + d + ",\"typing\":true}", "bad_request"),
                Bad.of("{\"type\":\"typing\",\"id\":1," + d + ",\"typing\":\"true\"}", "bad_request", 1),
                Bad.of("{\"type\":\"leave\",\"id\":{}," + d + "}", "bad_request"),
                Bad.of("{\"type\":\"leave\",\"id\":1,\"doc\":\"" + t.doc() + "/\"}", "bad_request", 1),
                Bad.of("{\"type\":\"broadcast\",\"id\":1e400," + d + ",\"data\":\"boo\"}", "bad_request"),
                Bad.of("{\"type\":\"broadcast\",\"id\":1," + d + ",\"data\":\"boo\",\"echo\":\"false\"}", "bad_request", 1),
                Bad.of("{\"type\":\"broadcast\",\"id\":1," + d + "}", "bad_request", 1),
                Bad.of("{\"type\":\"signal\",\"id\":true," + d + ",\"to\":\"" + t.witnessId() + "\",\"data\":\"boo\"}", "bad_request"),
                Bad.of("{\"type\":\"signal\",\"id\":1," + d + ",\"to\":\"" + t.witnessId() + "\"}", "bad_request", 1),
                Bad.of("{\"type\":\"join\",\"id\":1,\"doc\":\"" + t.doc() + "-2\",\"user\":{\"id\":\"someone-else\"}}",
                        "bad_request", 1)));
        given().get("/api/documents/" + t.doc() + "-2/members").then().body("members.size()", equalTo(0));
        assertOffline("someone-else");
        // errors that are not "bad" change nothing either
        answerTo(member, Bad.of("{\"type\":\"update\",\"id\":2," + d + ",\"state\":{\"big\":\"" + "b".repeat(5000) + "\"}}",
                "too_large", 2));
        answerTo(member, Bad.of("{\"type\":\"signal\",\"id\":3," + d + ",\"to\":\"m-nobody\",\"data\":1}", "unknown_member", 3));
        assertEquals(List.of(), t.witness().drain(), "the witness received nothing");
        given().get("/api/documents/" + t.doc() + "/members").then()
                .body("members.size()", equalTo(2))
                .body("members.find { it.id == '" + self + "' }.state.v", equalTo(1))
                .body("members.find { it.id == '" + self + "' }.state.size()", equalTo(1))
                .body("members.find { it.id == '" + self + "' }.typing", equalTo(false))
                .body("members.find { it.id == '" + self + "' }.user.id", equalTo("mallory"));
    }

    // ---- invalid UTF-8 and other raw frames -----------------------------------------------------

    private static byte[] bytes(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object part : parts) {
            if (part instanceof String s) {
                out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            } else {
                for (int b : (int[]) part) {
                    out.write(b);
                }
            }
        }
        return out.toByteArray();
    }

    /**
     * RFC 6455 §8.1: a text frame that is not valid UTF-8 fails the connection (close 1007): every
     * frame is one UTF-8 JSON object, and a bad message changes nothing. What must never happen is
     * that the server repairs the bytes (U+FFFD) and applies the message.
     */
    @Test
    void invalidUtf8InATextFrameIsRefusedAndChangesNothing() {
        Target t = target();
        String d = "\"doc\":\"" + t.doc() + "\"";
        List<byte[]> frames = List.of(
                bytes("{\"type\":\"join\",\"id\":\"j\"," + d + ",\"state\":{\"n\":\"", new int[] { 0xFF }, "\"}}"),
                bytes("{\"type\":\"join\",\"id\":\"j\"," + d + ",\"state\":{\"n\":\"", new int[] { 0xC0, 0xAF }, "\"}}"),
                bytes("{\"type\":\"join\",\"id\":\"j\"," + d + ",\"user\":{\"id\":\"mallory\",\"name\":\"", new int[] { 0xED, 0xA0, 0x80 },
                        "\"}}"),
                bytes("{\"type\":\"join\",\"id\":\"j\"," + d + ",\"state\":{\"", new int[] { 0xF4, 0x90, 0x80, 0x80 }, "\":1}}"),
                bytes("{\"type\":\"join\",\"id\":\"j\"," + d + ",\"state\":{\"n\":\"", new int[] { 0xE2, 0x82 }, "\"}}"),
                bytes("{\"type\":\"ping\",\"id\":\"", new int[] { 0x80 }, "\"}"));
        List<String> observed = new ArrayList<>();
        for (byte[] frame : frames) {
            RawWebSocket ws = raw("/ws");
            assertEquals(101, ws.status());
            ws.text(frame);
            String answer = ws.nextText();
            String what = answer == null ? "close " + ws.awaitClose() : answer;
            observed.add(what);
            if (answer != null) {
                ws.close();
            }
        }
        for (int i = 0; i < frames.size(); i++) {
            String what = observed.get(i);
            String sent = new String(frames.get(i), StandardCharsets.ISO_8859_1);
            assertEquals("close 1007", what, "invalid UTF-8 " + clip(sent) + " must close with 1007; observed: " + observed);
        }
        assertUntouched(t);
        assertOffline("mallory");
    }

    /**
     * Bad bytes in a later fragment of a message, or a message that stops in the middle of a
     * character: the same close, after the messages sent before it were answered.
     */
    @Test
    void invalidUtf8InALaterFragmentClosesWith1007AfterTheMessagesBefore() {
        for (byte[] last : List.of(new byte[] { (byte) 0xFF, '"', '}' }, new byte[] { '"', '}', (byte) 0xE2, (byte) 0x82 })) {
            RawWebSocket ws = raw("/ws");
            ws.text("{\"type\":\"ping\",\"id\":\"before\"}");
            ws.frame(false, RawWebSocket.TEXT, "{\"type\":\"ping\",\"id\":\"".getBytes(StandardCharsets.UTF_8));
            ws.frame(false, RawWebSocket.CONTINUATION, "ok so far".getBytes(StandardCharsets.UTF_8));
            ws.frame(true, RawWebSocket.CONTINUATION, last);
            assertEquals("before", readTree(ws.nextText()).path("id").asText());
            assertEquals(null, ws.nextText());
            assertEquals(1007, ws.awaitClose());
        }
    }

    /**
     * Browsers and most libraries send a message as one frame: one over the limit is refused from its
     * header, unread, with a close frame that says why (1009), not a dropped connection (1006) that a
     * client takes for the network and answers by sending the same message again.
     */
    @Test
    void aMessageOverTheSizeLimitInOneFrameClosesWith1009() {
        RawWebSocket ws = raw("/ws");
        ws.text("{\"type\":\"broadcast\",\"doc\":\"d\",\"data\":\"" + "x".repeat(65 * 1024) + "\"}");
        assertEquals(null, ws.nextText());
        assertEquals(1009, ws.awaitClose());
        assertEquals(null, ws.readFrame(), "nothing after the close frame: the connection ends");
    }

    /** The connection whose frame was refused ends, and with it its membership: the others see it leave. */
    @Test
    void aMemberWhoseFrameWasRefusedLeavesWithReasonClosed() {
        Target t = target();
        RawWebSocket ws = raw("/ws?user=mallory");
        ws.text("{\"type\":\"join\",\"id\":1,\"doc\":\"" + t.doc() + "\"}");
        assertThat(ws.nextText(), containsString("\"joined\""));
        assertEquals("join", t.witness().next("presence").get("event").asText());
        ws.text("{\"type\":\"broadcast\",\"doc\":\"" + t.doc() + "\",\"data\":\"" + "x".repeat(65 * 1024) + "\"}");
        JsonNode leave = t.witness().next("presence");
        assertEquals("leave", leave.get("event").asText());
        assertEquals("closed", leave.get("reason").asText());
        assertEquals(1009, ws.awaitClose());
        assertUntouched(t);
    }

    /**
     * A message found bad in its first fragment still counts every byte that follows against the
     * size limit: a client cannot stream fragments for ever once it has sent one bad byte.
     */
    @Test
    void aBadMessageStreamedPastTheSizeLimitClosesWith1009() {
        RawWebSocket ws = raw("/ws");
        ws.frame(false, RawWebSocket.TEXT, new byte[] { '"', (byte) 0xFF });
        byte[] chunk = "x".repeat(16 * 1024).getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 4; i++) { // 2 + 4 x 16 KiB: just past the 64 KiB limit
            ws.frame(false, RawWebSocket.CONTINUATION, chunk);
        }
        assertEquals(null, ws.nextText());
        assertEquals(1009, ws.awaitClose());
    }

    /**
     * U+FFFD sent as itself (its three UTF-8 bytes) is a character like any other: a browser sends it
     * for a lone surrogate in a string, and text pasted from a badly decoded file holds it.
     */
    @Test
    void aRawReplacementCharacterIsOrdinaryText() {
        Target t = target();
        RawWebSocket ws = raw("/ws");
        ws.text("{\"type\":\"ping\",\"id\":\"a\uFFFDb\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals("a\uFFFDb", readTree(ws.nextText()).path("id").asText());
        ws.text(join(t.doc(), ",\"state\":{\"text\":\"\uFFFD\"}").getBytes(StandardCharsets.UTF_8));
        assertEquals("joined", readTree(ws.nextText()).path("type").asText());
        JsonNode joined = t.witness().next("presence");
        assertEquals("\uFFFD", joined.path("member").path("state").path("text").asText());
    }

    /**
     * A lone surrogate (a string cut in the middle of an emoji, escaped in the JSON that carried it)
     * has no UTF-8 form: REST answers and long polls write it escaped again, as the WebSockets do.
     */
    @Test
    void aLoneSurrogateComesBackEscapedFromRestAndLongPolls() {
        Target t = target();
        String offset = given().get("/api/documents/" + t.doc() + "/members").then().statusCode(200).extract().path("offset");
        WsClient ada = connect("/ws?user=ada");
        ada.send(join(t.doc(), ",\"state\":{\"text\":\"ab\\ud83d\"}")).next("joined");
        ada.send("{\"type\":\"broadcast\",\"doc\":\"" + t.doc() + "\",\"data\":\"\\ude00cd\"}");
        t.witness().next("presence");
        assertEquals("\ude00cd", t.witness().next("broadcast").get("data").textValue());

        String members = given().get("/api/documents/" + t.doc() + "/members").then().statusCode(200).extract().asString();
        assertTrue(members.contains("\"text\":\"ab\\ud83d\""), members);
        String polled = given().get("/poll/documents/" + t.doc() + "?since=" + offset + "&timeout=0").then().statusCode(200)
                .extract().asString();
        assertTrue(polled.contains("\"text\":\"ab\\ud83d\"") && polled.contains("\"data\":\"\\ude00cd\""), polled);
    }

    @Test
    void aCharacterSplitAcrossFragmentsIsReassembled() {
        RawWebSocket ws = raw("/ws");
        byte[] all = "{\"type\":\"ping\",\"id\":\"é🙂\"}".getBytes(StandardCharsets.UTF_8);
        int start = "{\"type\":\"ping\",\"id\":\"".length();
        ws.frame(false, RawWebSocket.TEXT, Arrays.copyOfRange(all, 0, start + 1)); // half of é
        ws.ping(new byte[] { 1 }); // a control frame may come between fragments
        ws.frame(false, RawWebSocket.CONTINUATION, Arrays.copyOfRange(all, start + 1, start + 4)); // rest of é, half of 🙂
        ws.frame(true, RawWebSocket.CONTINUATION, Arrays.copyOfRange(all, start + 4, all.length));
        JsonNode pong = readTree(ws.nextText());
        assertEquals("pong", pong.path("type").asText());
        assertEquals("é🙂", pong.path("id").asText());
    }

    @Test
    void anUnmaskedFrameEndsTheConnection() {
        RawWebSocket ws = raw("/ws");
        ws.unmasked().text("{\"type\":\"ping\",\"id\":1}");
        assertEquals(null, ws.nextText(), "RFC 6455 §5.1: the server must close on an unmasked client frame");
        assertThat(ws.awaitClose(), oneOf(1002, RawWebSocket.NO_CLOSE_FRAME));
    }

    @Test
    void aBinaryFrameFromARawClientIsBadRequestToo() {
        Target t = target();
        RawWebSocket ws = raw("/ws");
        ws.binary(join(t.doc(), "").getBytes(StandardCharsets.UTF_8));
        JsonNode error = readTree(ws.nextText());
        assertEquals("bad_request", error.path("code").asText());
        ws.text("{\"type\":\"ping\",\"id\":1}");
        assertEquals("pong", readTree(ws.nextText()).path("type").asText());
        assertUntouched(t);
    }

    /** Valid JSON with odd values: what a member broadcasts reaches the others as valid JSON. */
    @Test
    void oddButValidPayloadsAreRelayedAsValidJson() {
        Target t = target();
        WsClient member = connect();
        member.send(join(t.doc(), ""));
        member.next("joined");
        t.witness().next("presence");
        for (String data : new String[] { "\"\\ud800\"", "\"\\udfff\\ud800\"", "1e999999", "-1e999999", "1" + "0".repeat(900),
                "\"\\u0000\\u2028\\u2029\"", "\"</script><!--\"", "[" + "[".repeat(62) + "]".repeat(62) + "]" }) {
            member.send("{\"type\":\"broadcast\",\"id\":1,\"doc\":\"" + t.doc() + "\",\"data\":" + data + "}");
            assertEquals("ack", member.next().path("type").asText(), data);
            JsonNode got = t.witness().next();
            assertEquals("broadcast", got.path("type").asText(), () -> "relayed " + data + " as " + got);
        }
        assertEquals(List.of(), t.witness().drain());
    }

    private static JsonNode readTree(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + clip(json), e);
        }
    }
}
