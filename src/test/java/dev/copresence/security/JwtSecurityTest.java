package dev.copresence.security;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.RawWebSocket;
import dev.copresence.support.TestTokens;
import dev.copresence.support.WsClient;

/** Auth mode jwt: who a connection is comes from its token, and only from it. */
@QuarkusTest
@TestProfile(JwtProfile.class)
class JwtSecurityTest {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    @TestHTTPResource("/")
    URI base;

    private WsClient connect(String pathAndQuery) {
        return WsClient.connect(WsClient.ws(base, pathAndQuery));
    }

    private static String doc(String prefix) {
        return prefix + Long.toString(System.nanoTime(), 36);
    }

    @Test
    void aValidTokenMakesTheConnectionItsSubjectAndAClaimedUserIsIgnored() {
        String token = TestTokens.token("ada", "Ada Lovelace", null, 600);
        try (WsClient ada = connect("/ws?access_token=" + token)) {
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc("d") + "\",\"user\":{\"id\":\"eve\",\"name\":\"Eve\"}}");
            JsonNode me = ada.next("joined").at("/members/0/user");
            assertEquals("ada", me.get("id").asText(), "sub is the user: the client cannot claim another");
            assertEquals("Ada Lovelace", me.get("name").asText());
        }
        try (WsClient header = WsClient.connect(WsClient.ws(base, "/ws"), Map.of("Authorization", "Bearer " + token))) {
            header.send("{\"type\":\"ping\",\"id\":1}");
            header.next("pong");
        }
    }

    @Test
    void aTokensNameIsCutTo256Characters() {
        String token = TestTokens.token("ivy", "n".repeat(10_000), null, 600);
        try (WsClient ivy = WsClient.connect(WsClient.ws(base, "/ws"), Map.of("Authorization", "Bearer " + token))) {
            ivy.send("{\"type\":\"join\",\"doc\":\"" + doc("named") + "\"}");
            assertEquals("n".repeat(256), ivy.next("joined").at("/members/0/user/name").asText());
        }
    }

    @Test
    void aMissingBadExpiredFutureOrForeignTokenIsRefusedAtTheUpgradeWith401() {
        String issuedInAnHour = TestTokens.issuedIn("ada", 3600, 7200);
        String wrongKey = TestTokens.sign("jwt/other-private.pem", TestTokens.ISSUER, "ada", null, null, 600);
        String wrongIssuer = TestTokens.sign("jwt/private.pem", "https://evil.example", "ada", null, null, 600);
        String expired = TestTokens.token("ada", null, null, -60);
        String badSub = TestTokens.token("ada lovelace", null, null, 600);
        for (String query : new String[] { "", "?access_token=garbage", "?access_token=" + wrongKey,
                "?access_token=" + wrongIssuer, "?access_token=" + expired, "?access_token=" + badSub,
                "?access_token=" + issuedInAnHour }) {
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> connect("/ws" + query));
            assertTrue(String.valueOf(refused.getMessage()).contains("401"), query + ": " + refused.getMessage());
        }
    }

    @Test
    void refusedRequestsAreCountedUnderTheirRouteNotTheDocumentTheyNamed() {
        String secret = doc("secret-");
        String foreign = TestTokens.token("ada", null, "[\"lobby\"]", 600);
        given().get("/poll/documents/" + secret).then().statusCode(401);
        given().get("/sse/documents/" + secret).then().statusCode(401);
        given().queryParam("access_token", foreign).get("/poll/documents/" + secret).then().statusCode(403);
        given().queryParam("access_token", foreign).get("/sse/documents/" + secret).then().statusCode(403);
        given().get("/api/documents/" + secret + "/members").then().statusCode(401);
        assertThrows(IllegalStateException.class, () -> connect("/ws/documents/" + secret));
        given().header("Authorization", "Bearer test-api-key").get("/api/documents/" + secret + "/members").then().statusCode(200);
        given().get("/poll/documents/" + secret + "/x").then().statusCode(org.hamcrest.Matchers.greaterThanOrEqualTo(400));
        given().get("/sse/documents/" + secret + "/x").then().statusCode(org.hamcrest.Matchers.greaterThanOrEqualTo(400));
        given().get("/api/documents/" + secret).then().statusCode(org.hamcrest.Matchers.greaterThanOrEqualTo(400));
        given().get("/poll/" + secret).then().statusCode(401);
        given().get("/sse/" + secret).then().statusCode(401);
        given().get("/api/" + secret).then().statusCode(401);
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertFalse(metrics.contains(secret), () -> "a document id in a metric's tags: " + metrics.lines()
                .filter(l -> l.contains(secret)).toList());
        assertTrue(metrics.contains("uri=\"/poll/documents/{doc}\""), "counted under the route");
        assertTrue(metrics.contains("status=\"200\",uri=\"/api/documents/{doc}/members\""), "a route served keeps its own name");
        assertTrue(metrics.contains("uri=\"/sse/documents/{doc}\""), "and a stream's");
    }

    @Test
    void aTokenIssuedWithinTheClockSkewAheadIsAccepted() {
        // an issuer whose clock runs half a minute ahead of this node's (mp.jwt.verify.clock.skew: 60 s)
        try (WsClient ahead = connect("/ws?access_token=" + TestTokens.issuedIn("ada", 30, 600))) {
            ahead.send("{\"type\":\"ping\",\"id\":1}");
            ahead.next("pong");
        }
    }

    @Test
    void theDocsClaimAllowsMatchingDocumentsAndForbidsTheOthers() {
        String token = TestTokens.token("bob", null, "[\"team-a:*\",\"lobby\"]", 600);
        try (WsClient bob = connect("/ws?access_token=" + token)) {
            bob.send("{\"type\":\"join\",\"id\":1,\"doc\":\"" + doc("team-a:") + "\"}");
            bob.next("joined");
            bob.send("{\"type\":\"join\",\"id\":2,\"doc\":\"lobby\"}");
            bob.next("joined");
            String secret = doc("team-b:");
            bob.send("{\"type\":\"join\",\"id\":3,\"doc\":\"" + secret + "\"}");
            JsonNode error = bob.next("error");
            assertEquals("forbidden", error.get("code").asText());
            assertEquals(3, error.get("id").asInt());
            given().header("Authorization", "Bearer test-api-key").get("/api/documents/" + secret + "/members")
                    .then().statusCode(200).body("members.size()", org.hamcrest.Matchers.equalTo(0));
        }
        try (WsClient bound = connect("/ws/documents/" + doc("team-b:") + "?access_token=" + token)) {
            assertEquals("forbidden", bound.next("error").get("code").asText());
            assertEquals(4403, bound.awaitClose());
        }
    }

    @Test
    void aTokenThatExpiresOnAnOpenConnectionClosesItWith4401() {
        try (WsClient client = connect("/ws?access_token=" + TestTokens.token("cy", null, null, 3))) {
            assertEquals(4401, client.awaitClose());
        }
    }

    @Test
    void aFreshTokenSentBeforeExpiryKeepsTheConnectionOpen() {
        long expiresAt = System.currentTimeMillis() + 4000;
        try (WsClient client = connect("/ws?access_token=" + TestTokens.token("dan", null, null, 4))) {
            client.send("{\"type\":\"auth\",\"id\":\"a\",\"token\":\"" + TestTokens.token("dan", null, null, 600) + "\"}");
            assertEquals("a", client.next("ack").get("id").asText());
            client.send("{\"type\":\"auth\",\"id\":\"b\",\"token\":\"" + TestTokens.token("eve", null, null, 600) + "\"}");
            assertEquals("unauthorized", client.next("error").get("code").asText(), "a token of another user");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> System.currentTimeMillis() > expiresAt + 2500);
            client.send("{\"type\":\"ping\",\"id\":2}");
            assertEquals(2, client.next("pong").get("id").asInt());
        }
    }

    @Test
    void anEventStreamAndALongPollEndWhenTheirTokenExpires() throws Exception {
        String doc = doc("expiring:");
        String token = TestTokens.token("fay", null, null, 3);
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>> stream = http.sendAsync(
                java.net.http.HttpRequest.newBuilder(URI.create(base + "sse/documents/" + doc + "?access_token=" + token)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>> status = http.sendAsync(
                java.net.http.HttpRequest.newBuilder(URI.create(base + "sse/status?users=ada&access_token=" + token)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        java.net.http.HttpResponse<String> poll = http.send(java.net.http.HttpRequest.newBuilder(
                URI.create(base + "poll/documents/" + doc + "?timeout=30&access_token=" + token)).timeout(Duration.ofSeconds(20)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, poll.statusCode(), "the wait ends with the token, not at its 30 s: " + poll.body());
        assertEquals("[]", JSON.readTree(poll.body()).get("events").toString());
        // each stream ends (the body completes) once its token has expired, not when its reader goes
        assertTrue(stream.get(20, java.util.concurrent.TimeUnit.SECONDS).body().contains("event: members"));
        assertTrue(status.get(20, java.util.concurrent.TimeUnit.SECONDS).body().contains("event: status"));
    }

    @Test
    void aJoinAgainAfterARefreshWithFewerDocumentsIsForbiddenAndShowsNothing() {
        String doc = doc("narrowed:");
        try (WsClient gus = connect("/ws?access_token=" + TestTokens.token("gus", null, "[\"" + doc + "\",\"keep\"]", 600))) {
            gus.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            gus.send("{\"type\":\"auth\",\"id\":\"a\",\"token\":\"" + TestTokens.token("gus", null, "[\"keep\"]", 600) + "\"}")
                    .next("ack");
            JsonNode refused = gus.send("{\"type\":\"join\",\"id\":2,\"doc\":\"" + doc + "\"}").next("error");
            assertEquals("forbidden", refused.get("code").asText());
        }
    }

    @Test
    void aBadDocumentIdIsBadRequestWhateverTheTokenAllows() throws Exception {
        String token = TestTokens.token("hal", null, "[\"d1\"]", 600);
        given().get("/poll/documents/d1*?timeout=0&access_token=" + token).then().statusCode(400)
                .body("code", org.hamcrest.Matchers.equalTo("bad_request"));
        assertEquals(400, sseStatus("/sse/documents/d1*?access_token=" + token, Map.of()));
    }

    @Test
    void aRefusedUpgradeSaysWhyWithTheProtocolsErrorObject() throws Exception {
        String token = TestTokens.token("ada", null, null, 600);
        Map<String, String> refusals = new java.util.LinkedHashMap<>();
        try (RawWebSocket noToken = RawWebSocket.connect(base, "/ws")) {
            refusals.put(noToken.status() + " no token", noToken.refusalBody());
        }
        try (RawWebSocket foreign = RawWebSocket.connect(base, "/ws?access_token=" + token, Map.of("Origin", "https://evil.example"))) {
            refusals.put(foreign.status() + " foreign origin", foreign.refusalBody());
        }
        try (RawWebSocket badDoc = RawWebSocket.connect(base, "/ws/documents/a*b?access_token=" + token)) {
            refusals.put(badDoc.status() + " bad document", badDoc.refusalBody());
        }
        Map<String, String> codes = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, String> refusal : refusals.entrySet()) {
            JsonNode error = new com.fasterxml.jackson.databind.ObjectMapper().readTree(refusal.getValue());
            assertEquals("error", error.path("type").asText(), refusal.getKey() + ": " + refusal.getValue());
            assertFalse(error.path("message").asText().isEmpty(), refusal.getKey() + ": " + refusal.getValue());
            codes.put(refusal.getKey(), error.path("code").asText());
        }
        assertEquals(Map.of("401 no token", "unauthorized", "403 foreign origin", "forbidden", "400 bad document", "bad_request"), codes);
    }

    @Test
    void aForeignOriginIsRefusedWith403AndAllowedOnesOrNoneAreNot() {
        String token = TestTokens.token("ada", null, null, 600);
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> WsClient.connect(
                WsClient.ws(base, "/ws?access_token=" + token), Map.of("Origin", "https://evil.example")));
        assertTrue(refused.getMessage().contains("403"), refused.getMessage());
        try (WsClient allowed = WsClient.connect(WsClient.ws(base, "/ws?access_token=" + token),
                Map.of("Origin", "https://app.example"))) {
            allowed.send("{\"type\":\"ping\",\"id\":1}");
            allowed.next("pong");
        }
        given().header("Origin", "https://evil.example").header("Authorization", "Bearer test-api-key")
                .get("/api/status?users=ada").then().statusCode(403).body("code", org.hamcrest.Matchers.equalTo("forbidden"));
    }

    @Test
    void theReadOnlyFeedsNeedATokenThatAllowsTheDocument() throws Exception {
        String doc = doc("team-a:");
        String poll = "/poll/documents/" + doc + "?since=1-1&timeout=0";
        given().get(poll).then().statusCode(401).body("code", org.hamcrest.Matchers.equalTo("unauthorized"));
        given().get(poll + "&access_token=" + TestTokens.token("bob", null, "[\"team-b:*\"]", 600)).then()
                .statusCode(403).body("code", org.hamcrest.Matchers.equalTo("forbidden"));
        given().get(poll + "&access_token=" + TestTokens.token("bob", null, "[\"team-a:*\"]", 600)).then().statusCode(200);
        given().header("Authorization", "Bearer " + TestTokens.token("bob", null, null, 600)).get(poll).then().statusCode(200);

        String sse = "/sse/documents/" + doc;
        assertEquals(401, sseStatus(sse, Map.of()));
        assertEquals(403, sseStatus(sse + "?access_token=" + TestTokens.token("bob", null, "[\"team-b:*\"]", 600), Map.of()));
        String allowed = TestTokens.token("bob", null, "[\"team-a:*\"]", 600);
        assertEquals(403, sseStatus(sse + "?access_token=" + allowed, Map.of("Origin", "https://evil.example")));
        assertEquals(200, sseStatus(sse + "?access_token=" + allowed, Map.of("Origin", "https://app.example")));
        assertEquals(200, sseStatus(sse, Map.of("Authorization", "Bearer " + allowed)));

        assertEquals(401, sseStatus("/sse/status?users=ada", Map.of()));
        assertEquals(403, sseStatus("/sse/status?users=ada&access_token=" + allowed, Map.of("Origin", "https://evil.example")));
        assertEquals(200, sseStatus("/sse/status?users=ada&access_token=" + allowed, Map.of()));
    }

    @Test
    void anAllowedOriginMayReadTheFeedsFromAnotherOriginAndAForeignOneGetsNoCorsHeaders() throws Exception {
        String token = TestTokens.token("bob", null, null, 600);
        String poll = "/poll/documents/" + doc("cors:") + "?timeout=0&access_token=" + token;
        given().header("Origin", "https://app.example").get(poll).then().statusCode(200)
                .header("Access-Control-Allow-Origin", "https://app.example")
                .header("Vary", org.hamcrest.Matchers.containsString("Origin"));
        java.net.http.HttpResponse<?> sse = sse("/sse/documents/" + doc("cors:") + "?access_token=" + token,
                Map.of("Origin", "https://app.example"));
        assertEquals(200, sse.statusCode());
        assertEquals("https://app.example", sse.headers().firstValue("Access-Control-Allow-Origin").orElse(null));

        // a fetch that sends its token in the Authorization header asks first
        given().header("Origin", "https://app.example").header("Access-Control-Request-Method", "GET")
                .header("Access-Control-Request-Headers", "authorization")
                .options("/poll/documents/x").then().statusCode(204)
                .header("Access-Control-Allow-Origin", "https://app.example")
                .header("Access-Control-Allow-Methods", "GET")
                .header("Access-Control-Allow-Headers", org.hamcrest.Matchers.containsString("Authorization"));

        given().header("Origin", "https://evil.example").get(poll).then().statusCode(403)
                .header("Access-Control-Allow-Origin", org.hamcrest.Matchers.nullValue())
                .header("Vary", org.hamcrest.Matchers.containsString("Origin"));
        given().header("Origin", "https://evil.example").header("Access-Control-Request-Method", "GET")
                .options("/poll/documents/x").then().statusCode(403)
                .header("Access-Control-Allow-Origin", org.hamcrest.Matchers.nullValue());
        // no Origin (not a browser): no CORS header, but a cache must not hand this answer to a page
        given().get(poll).then().statusCode(200)
                .header("Access-Control-Allow-Origin", org.hamcrest.Matchers.nullValue())
                .header("Vary", org.hamcrest.Matchers.containsString("Origin"));
        // the server API, whose key never belongs in a browser, is not offered to other origins
        given().header("Origin", "https://app.example").header("Authorization", "Bearer test-api-key")
                .get("/api/status?users=ada").then().statusCode(200)
                .header("Access-Control-Allow-Origin", org.hamcrest.Matchers.nullValue());
    }

    /** The status of an event stream's answer (its body is left unread: the stream never ends by itself). */
    private int sseStatus(String path, Map<String, String> headers) throws Exception {
        return sse(path, headers).statusCode();
    }

    private java.net.http.HttpResponse<?> sse(String path, Map<String, String> headers) throws Exception {
        java.net.http.HttpRequest.Builder request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + path.substring(1)))
                .timeout(java.time.Duration.ofSeconds(10));
        headers.forEach(request::header);
        java.net.http.HttpResponse<java.io.InputStream> response = java.net.http.HttpClient.newHttpClient()
                .send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofInputStream());
        response.body().close();
        return response;
    }

    @Test
    void theWatchClaimLimitsWhoseStatusATokenMayWatchAndAWatchItRefusesWatchesNobody() throws Exception {
        String limited = TestTokens.withClaims("ada", ",\"watch\":[\"team-a:*\",\"bob\"]", 600);
        try (WsClient ada = connect("/ws?access_token=" + limited)) {
            JsonNode refused = ada.send("{\"type\":\"watch\",\"id\":1,\"users\":[\"team-a:cy\",\"eve\"]}").next();
            assertEquals("error", refused.get("type").asText(), refused.toString());
            assertEquals("forbidden", refused.get("code").asText());
            assertEquals(1, refused.get("id").asInt());
            try (WsClient cy = connect("/ws?access_token=" + TestTokens.token("team-a:cy", null, null, 600))) {
                cy.send("{\"type\":\"ping\",\"id\":1}").next("pong"); // online now: the refused watch tells ada nothing
                ada.send("{\"type\":\"watch\",\"id\":2,\"users\":[\"bob\",\"team-a:dan\"]}");
                List<JsonNode> answers = List.of(ada.next(), ada.next(), ada.next());
                assertEquals(List.of("ack ", "status bob", "status team-a:dan"),
                        answers.stream().map(m -> m.get("type").asText() + " " + m.path("user").asText()).sorted().toList(),
                        "the allowed watch is answered, and nothing of cy: " + answers);
            }
        }
        assertEquals(403, sseStatus("/sse/status?users=bob,eve&access_token=" + limited, Map.of()));
        assertEquals(200, sseStatus("/sse/status?users=bob,team-a:cy&access_token=" + limited, Map.of()));
        assertEquals(200, sseStatus("/sse/status?users=eve&access_token=" + TestTokens.token("ada", null, null, 600), Map.of()),
                "without the claim any user may be watched, as the contract has it");
    }

    @Test
    void theServerApiNeedsTheApiKey() {
        given().get("/api/status?users=ada").then().statusCode(401).body("code", org.hamcrest.Matchers.equalTo("unauthorized"));
        given().header("Authorization", "Bearer wrong").body("{\"data\":1}").post("/api/documents/x/broadcast")
                .then().statusCode(401);
        given().header("Authorization", "Bearer " + TestTokens.token("ada", null, null, 600))
                .get("/api/documents/x/members").then().statusCode(401);
        given().header("Authorization", "Bearer test-api-key").get("/api/status?users=ada").then().statusCode(200);
        given().header("Authorization", "Bearer test-api-key").body("{\"data\":1}").post("/api/documents/x/broadcast")
                .then().statusCode(200);
    }
}
