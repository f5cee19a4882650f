package dev.copresence.contract;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkus.test.common.http.TestHTTPResource;

import dev.copresence.support.WsClient;

/**
 * The rows of wire protocol v1's client and server tables, as a client sees them. Run against each
 * registry by a subclass: the same assertions must hold in memory and on Redis.
 */
public abstract class ContractTests {
    private static final AtomicInteger DOCS = new AtomicInteger();

    @TestHTTPResource("/")
    URI base;

    private final List<WsClient> clients = new java.util.ArrayList<>();

    @AfterEach
    void closeClients() {
        clients.forEach(WsClient::close);
        clients.clear();
    }

    /** A document no other test uses. */
    protected static String doc() {
        return "doc-" + DOCS.incrementAndGet() + "-" + Long.toString(System.nanoTime(), 36);
    }

    protected WsClient connect(String pathAndQuery) {
        WsClient client = WsClient.connect(WsClient.ws(base, pathAndQuery));
        clients.add(client);
        return client;
    }

    protected WsClient connect() {
        return connect("/ws");
    }

    /** Joins with an id and returns the {@code joined} answer. */
    protected static JsonNode join(WsClient client, String doc, String extra) {
        client.send("{\"type\":\"join\",\"id\":\"j\",\"doc\":\"" + doc + "\"" + extra + "}");
        return client.next("joined");
    }

    protected static JsonNode join(WsClient client, String doc) {
        return join(client, doc, "");
    }

    protected static JsonNode joinAs(WsClient client, String doc, String user, String name) {
        return join(client, doc, ",\"user\":{\"id\":\"" + user + "\",\"name\":\"" + name + "\"}");
    }

    protected static java.util.Set<String> memberIds(JsonNode members) {
        java.util.Set<String> ids = new java.util.HashSet<>();
        members.forEach(m -> ids.add(m.get("id").asText()));
        return ids;
    }

    // ---- join ------------------------------------------------------------------------------------

    @Test
    void joinAnswersJoinedWithSelfMembersAndOffset() {
        String doc = doc();
        WsClient ada = connect();
        JsonNode joined = join(ada, doc, ",\"state\":{\"cursor\":3},\"user\":{\"id\":\"ada\",\"name\":\"Ada\"}");
        assertEquals("j", joined.get("id").asText());
        assertEquals(doc, joined.get("doc").asText());
        String self = joined.get("self").asText();
        assertTrue(self.startsWith("m-"), self);
        assertEquals(1, joined.get("members").size());
        JsonNode me = joined.get("members").get(0);
        assertEquals(self, me.get("id").asText());
        assertEquals("ada", me.at("/user/id").asText());
        assertEquals("Ada", me.at("/user/name").asText());
        assertEquals(3, me.at("/state/cursor").asInt());
        assertFalse(me.get("typing").asBoolean());
        assertTrue(me.get("joinedAt").asLong() > 0);
        assertFalse(me.has("node"), "the node is internal");
        assertTrue(joined.get("offset").isTextual());
        assertFalse(joined.has("resumed"), "resumed is present only when since was given");
    }

    @Test
    void joinIsAnnouncedToOtherMembersButNotToTheJoiner() {
        String doc = doc();
        WsClient ada = connect();
        String adaId = joinAs(ada, doc, "ada", "Ada").get("self").asText();
        WsClient bob = connect();
        JsonNode bobJoined = joinAs(bob, doc, "bob", "Bob");
        assertEquals(2, bobJoined.get("members").size());

        JsonNode presence = ada.next("presence");
        assertEquals("join", presence.get("event").asText());
        assertEquals(doc, presence.get("doc").asText());
        assertEquals(bobJoined.get("self").asText(), presence.at("/member/id").asText());
        assertEquals("bob", presence.at("/member/user/id").asText());
        assertEquals(bobJoined.get("offset").asText(), presence.get("offset").asText(),
                "joined.offset is the offset of the member's own join");
        assertTrue(bob.drain().isEmpty(), "the joiner gets no presence for itself");
        assertTrue(ada.drain().isEmpty());
        assertFalse(adaId.equals(bobJoined.get("self").asText()));
    }

    @Test
    void joiningAgainAnswersJoinedAndChangesNothing() {
        String doc = doc();
        WsClient ada = connect();
        String self = join(ada, doc).get("self").asText();
        WsClient bob = connect();
        join(bob, doc);
        ada.next("presence");
        JsonNode again = join(ada, doc);
        assertEquals(self, again.get("self").asText());
        assertEquals(2, again.get("members").size());
        assertTrue(bob.drain().isEmpty(), "nobody hears of a second join");
    }

    @Test
    void anonymousJoinGetsAServerChosenUser() {
        WsClient anon = connect();
        JsonNode joined = join(anon, doc());
        assertTrue(joined.at("/members/0/user/id").asText().startsWith("anon-"));
    }

    @Test
    void joinAsAnotherUserThanTheConnectionIsBadRequest() {
        WsClient ada = connect("/ws?user=ada&name=Ada");
        String doc = doc();
        ada.send("{\"type\":\"join\",\"id\":1,\"doc\":\"" + doc + "\",\"user\":{\"id\":\"eve\"}}");
        JsonNode error = ada.next("error");
        assertEquals("bad_request", error.get("code").asText());
        assertEquals(1, error.get("id").asInt());
        given().get("/api/documents/" + doc + "/members").then().statusCode(200).body("members.size()", equalTo(0));
        JsonNode joined = join(ada, doc);
        assertEquals("ada", joined.at("/members/0/user/id").asText());
        assertEquals("Ada", joined.at("/members/0/user/name").asText());
    }

    // ---- leave -----------------------------------------------------------------------------------

    @Test
    void leaveIsBroadcastToOtherMembersWithReasonLeft() {
        String doc = doc();
        WsClient ada = connect();
        join(ada, doc);
        WsClient bob = connect();
        String bobId = join(bob, doc).get("self").asText();
        ada.next("presence");
        bob.send("{\"type\":\"leave\",\"id\":7,\"doc\":\"" + doc + "\"}");
        assertEquals(7, bob.next("ack").get("id").asInt());
        JsonNode leave = ada.next("presence");
        assertEquals("leave", leave.get("event").asText());
        assertEquals("left", leave.get("reason").asText());
        assertEquals(bobId, leave.at("/member/id").asText());
        assertTrue(leave.at("/member/user/id").isTextual());
        assertTrue(leave.get("offset").isTextual());
        bob.send("{\"type\":\"leave\",\"id\":8,\"doc\":\"" + doc + "\"}");
        assertEquals("not_joined", bob.next("error").get("code").asText());
    }

    @Test
    void closingTheConnectionAnnouncesLeaveWithReasonClosed() {
        String doc = doc();
        WsClient ada = connect();
        join(ada, doc);
        WsClient bob = connect();
        String bobId = join(bob, doc).get("self").asText();
        ada.next("presence");
        bob.closeGracefully();
        JsonNode leave = ada.next("presence");
        assertEquals("leave", leave.get("event").asText());
        assertEquals("closed", leave.get("reason").asText());
        assertEquals(bobId, leave.at("/member/id").asText());
    }

    // ---- update ----------------------------------------------------------------------------------

    @Test
    void updateMergesShallowlyAndNullRemovesAKey() {
        String doc = doc();
        WsClient ada = connect();
        join(ada, doc, ",\"state\":{\"a\":1,\"b\":{\"x\":1}}");
        WsClient bob = connect();
        join(bob, doc);
        ada.next("presence");
        ada.send("{\"type\":\"update\",\"doc\":\"" + doc + "\",\"state\":{\"b\":null,\"c\":{\"y\":2}}}");
        JsonNode update = bob.next("presence");
        assertEquals("update", update.get("event").asText());
        assertEquals("{\"a\":1,\"c\":{\"y\":2}}", update.at("/member/state").toString());
        assertFalse(update.has("offset"), "updates are ephemeral");
        assertTrue(ada.drain().isEmpty(), "no ack without an id, and no echo of one's own update");
        ada.send("{\"type\":\"update\",\"id\":\"u\",\"doc\":\"" + doc + "\",\"state\":{\"a\":2}}");
        assertEquals("u", ada.next("ack").get("id").asText());
        assertEquals("{\"a\":2,\"c\":{\"y\":2}}", bob.next("presence").at("/member/state").toString());
    }

    @Test
    void aKeySetToNullInAJoinsStateIsLeftOutAsAnUpdateWouldLeaveIt() {
        String doc = doc();
        WsClient ada = connect();
        JsonNode joined = join(ada, doc, ",\"state\":{\"a\":null,\"b\":1}");
        assertEquals("{\"b\":1}", joined.at("/members/0/state").toString());
        WsClient bob = connect();
        JsonNode bobJoined = join(bob, doc);
        for (JsonNode member : bobJoined.get("members")) {
            if (member.get("id").asText().equals(joined.get("self").asText())) {
                assertEquals("{\"b\":1}", member.get("state").toString(), "as others see ada");
            }
        }
        given().get("/api/documents/" + doc + "/members").then().statusCode(200)
                .body("members.state", org.hamcrest.Matchers.hasItem(java.util.Map.of("b", 1)));
    }

    @Test
    void stateOverTheLimitIsTooLargeAndChangesNothing() {
        String doc = doc();
        WsClient ada = connect();
        String big = "x".repeat(4100);
        ada.send("{\"type\":\"join\",\"id\":1,\"doc\":\"" + doc + "\",\"state\":{\"s\":\"" + big + "\"}}");
        assertEquals("too_large", ada.next("error").get("code").asText());
        join(ada, doc, ",\"state\":{\"s\":\"small\"}");
        ada.send("{\"type\":\"update\",\"id\":2,\"doc\":\"" + doc + "\",\"state\":{\"t\":\"" + big + "\"}}");
        JsonNode error = ada.next("error");
        assertEquals("too_large", error.get("code").asText());
        assertEquals(2, error.get("id").asInt());
        given().get("/api/documents/" + doc + "/members").then().statusCode(200)
                .body("members[0].state.s", equalTo("small"))
                .body("members[0].state.t", org.hamcrest.Matchers.nullValue());
    }

    @Test
    void updateBeforeJoinIsNotJoined() {
        WsClient ada = connect();
        ada.send("{\"type\":\"update\",\"id\":1,\"doc\":\"" + doc() + "\",\"state\":{}}");
        JsonNode error = ada.next("error");
        assertEquals("not_joined", error.get("code").asText());
        assertTrue(error.get("message").asText().length() > 5);
    }

    // ---- typing ----------------------------------------------------------------------------------

    @Test
    void typingIsAnnouncedOnChangeOnlyAndExpiresByItself() {
        String doc = doc();
        WsClient ada = connect();
        String adaId = joinAs(ada, doc, "ada", "Ada").get("self").asText();
        WsClient bob = connect();
        join(bob, doc);
        ada.next("presence");
        ada.send("{\"type\":\"typing\",\"doc\":\"" + doc + "\",\"typing\":true}");
        JsonNode typing = bob.next("typing");
        assertEquals(adaId, typing.get("member").asText());
        assertEquals("ada", typing.get("user").asText());
        assertTrue(typing.get("typing").asBoolean());
        given().get("/api/documents/" + doc + "/members").then()
                .body("members.find { it.id == '" + adaId + "' }.typing", equalTo(true));
        ada.send("{\"type\":\"typing\",\"id\":1,\"doc\":\"" + doc + "\",\"typing\":true}");
        ada.next("ack");
        assertTrue(ada.drain().isEmpty(), "the sender gets no typing event");
        // the refresh was silent: the next thing bob hears is the expiry, after the typing TTL
        JsonNode expired = bob.next("typing");
        assertFalse(expired.get("typing").asBoolean());
        assertEquals(adaId, expired.get("member").asText());
    }

    @Test
    void typingFalseIsAnnouncedAtOnce() {
        String doc = doc();
        WsClient ada = connect();
        join(ada, doc);
        WsClient bob = connect();
        join(bob, doc);
        ada.next("presence");
        ada.send("{\"type\":\"typing\",\"doc\":\"" + doc + "\",\"typing\":true}");
        assertTrue(bob.next("typing").get("typing").asBoolean());
        ada.send("{\"type\":\"typing\",\"doc\":\"" + doc + "\",\"typing\":false}");
        assertFalse(bob.next("typing").get("typing").asBoolean());
        ada.send("{\"type\":\"typing\",\"doc\":\"" + doc + "\",\"typing\":false}");
        ada.send("{\"type\":\"broadcast\",\"doc\":\"" + doc + "\",\"data\":\"after\"}");
        assertEquals("broadcast", bob.next().get("type").asText(), "a typing:false that changes nothing is silent");
    }

    // ---- broadcast -------------------------------------------------------------------------------

    @Test
    void broadcastReachesOtherMembersAndTheSenderOnlyWithEcho() {
        String doc = doc();
        WsClient ada = connect();
        String adaId = join(ada, doc).get("self").asText();
        WsClient bob = connect();
        join(bob, doc);
        ada.next("presence");
        ada.send("{\"type\":\"broadcast\",\"id\":1,\"doc\":\"" + doc + "\",\"data\":{\"op\":\"insert\",\"at\":[1,2.5,null]}}");
        assertEquals(1, ada.next("ack").get("id").asInt());
        JsonNode got = bob.next("broadcast");
        assertEquals(adaId, got.get("from").asText());
        assertEquals("{\"op\":\"insert\",\"at\":[1,2.5,null]}", got.get("data").toString());
        assertTrue(got.get("offset").isTextual());
        assertTrue(ada.drain().isEmpty(), "no echo by default");

        ada.send("{\"type\":\"broadcast\",\"doc\":\"" + doc + "\",\"data\":\"hi\",\"echo\":true}");
        JsonNode echoed = ada.next("broadcast");
        assertEquals("hi", echoed.get("data").asText());
        assertEquals(echoed.get("offset").asText(), bob.next("broadcast").get("offset").asText());
    }

    @Test
    void broadcastWithoutDataIsBadRequest() {
        String doc = doc();
        WsClient ada = connect();
        join(ada, doc);
        ada.send("{\"type\":\"broadcast\",\"id\":3,\"doc\":\"" + doc + "\"}");
        JsonNode error = ada.next("error");
        assertEquals("bad_request", error.get("code").asText());
        assertEquals(3, error.get("id").asInt());
    }

    @Test
    void everyMemberSeesDurableEventsInOneOrder() {
        String doc = doc();
        WsClient ada = connect();
        join(ada, doc);
        WsClient bob = connect();
        join(bob, doc);
        ada.next("presence");
        WsClient cy = connect();
        join(cy, doc);
        ada.next("presence");
        bob.next("presence");
        for (int i = 0; i < 30; i++) {
            ada.send("{\"type\":\"broadcast\",\"doc\":\"" + doc + "\",\"data\":\"a" + i + "\",\"echo\":true}");
            bob.send("{\"type\":\"broadcast\",\"doc\":\"" + doc + "\",\"data\":\"b" + i + "\",\"echo\":true}");
        }
        List<String> seenByAda = broadcasts(ada, 60);
        List<String> seenByBob = broadcasts(bob, 60);
        List<String> seenByCy = broadcasts(cy, 60);
        assertEquals(seenByAda, seenByBob);
        assertEquals(seenByAda, seenByCy);
    }

    private static List<String> broadcasts(WsClient client, int n) {
        List<String> offsets = new java.util.ArrayList<>();
        while (offsets.size() < n) {
            JsonNode m = client.untilType("broadcast");
            offsets.add(m.get("offset").asText() + "=" + m.get("data").asText());
        }
        return offsets;
    }

    // ---- signal ----------------------------------------------------------------------------------

    @Test
    void signalReachesOnlyItsTarget() {
        String doc = doc();
        WsClient ada = connect();
        String adaId = join(ada, doc).get("self").asText();
        WsClient bob = connect();
        String bobId = join(bob, doc).get("self").asText();
        WsClient cy = connect();
        join(cy, doc);
        ada.next("presence");
        ada.next("presence");
        bob.next("presence");
        ada.send("{\"type\":\"signal\",\"id\":1,\"doc\":\"" + doc + "\",\"to\":\"" + bobId + "\",\"data\":{\"sdp\":\"offer\"}}");
        ada.next("ack");
        JsonNode signal = bob.next("signal");
        assertEquals(adaId, signal.get("from").asText());
        assertEquals(doc, signal.get("doc").asText());
        assertEquals("offer", signal.at("/data/sdp").asText());
        assertFalse(signal.has("offset"), "signals are not logged");
        assertTrue(cy.drain().isEmpty());
    }

    @Test
    void signalToAnUnknownMemberIsUnknownMember() {
        String doc = doc();
        WsClient ada = connect();
        join(ada, doc);
        ada.send("{\"type\":\"signal\",\"id\":1,\"doc\":\"" + doc + "\",\"to\":\"m-nobody\",\"data\":1}");
        assertEquals("unknown_member", ada.next("error").get("code").asText());
    }

    // ---- watch / status --------------------------------------------------------------------------

    @Test
    void watchAnswersTheCurrentStatusThenEachChange() {
        String user = "w" + Long.toString(System.nanoTime(), 36);
        WsClient watcher = connect();
        // named twice: "one status per user"
        watcher.send("{\"type\":\"watch\",\"id\":1,\"users\":[\"" + user + "\",\"" + user + "\"]}");
        JsonNode initial = watcher.next("status");
        assertEquals(user, initial.get("user").asText());
        assertFalse(initial.get("online").asBoolean());
        assertFalse(initial.has("lastSeen"), "never seen");
        watcher.next("ack");

        WsClient first = connect("/ws?user=" + user);
        assertTrue(watcher.next("status").get("online").asBoolean(), "online from the upgrade");
        WsClient second = connect("/ws?user=" + user);
        // the server answers the second connection, so it has opened it (a client's upgrade can
        // complete before the server's open runs) before the first one closes
        second.send("{\"type\":\"ping\",\"id\":0}");
        second.next("pong");
        first.closeGracefully();
        second.send("{\"type\":\"ping\",\"id\":1}");
        second.next("pong");
        assertTrue(watcher.drain().isEmpty(), "still online: one connection is left");
        second.closeGracefully();
        JsonNode offline = watcher.next("status");
        assertFalse(offline.get("online").asBoolean());
        assertTrue(offline.get("lastSeen").asLong() > 0);

        given().get("/api/status?users=" + user + ",nobody-" + user).then().statusCode(200)
                .body("[0].user", equalTo(user)).body("[0].online", equalTo(false))
                .body("[0].lastSeen", org.hamcrest.Matchers.notNullValue())
                .body("[1].online", equalTo(false)).body("[1].lastSeen", org.hamcrest.Matchers.nullValue());
    }

    @Test
    void aUserNamedInJoinIsOnlineFromThatJoin() {
        String user = "j" + Long.toString(System.nanoTime(), 36);
        WsClient watcher = connect();
        watcher.send("{\"type\":\"watch\",\"users\":[\"" + user + "\"]}");
        assertFalse(watcher.next("status").get("online").asBoolean());
        WsClient client = connect();
        client.send("{\"type\":\"ping\",\"id\":0}");
        client.next("pong");
        assertTrue(watcher.drain().isEmpty(), "not online before it names itself");
        joinAs(client, doc(), user, "J");
        // joined comes after the count (docs/protocol.md): a client can rely on it at once
        given().get("/api/status?users=" + user).then().body("[0].online", equalTo(true));
        assertTrue(watcher.next("status").get("online").asBoolean());
    }

    @Test
    void unwatchStopsStatusChanges() {
        String user = "u" + Long.toString(System.nanoTime(), 36);
        WsClient watcher = connect();
        watcher.send("{\"type\":\"watch\",\"users\":[\"" + user + "\"]}");
        watcher.next("status");
        watcher.send("{\"type\":\"unwatch\",\"id\":2,\"users\":[\"" + user + "\"]}");
        assertEquals(2, watcher.next("ack").get("id").asInt());
        WsClient client = connect("/ws?user=" + user);
        client.send("{\"type\":\"ping\",\"id\":0}");
        client.next("pong");
        given().get("/api/status?users=" + user).then().body("[0].online", equalTo(true));
        assertTrue(watcher.drain().isEmpty());
    }

    /** A client watching whoever is in a list (contacts, a team) sends the list as it is, empty too. */
    @Test
    void watchingAnEmptyListIsAcknowledgedAndAnswersNothing() {
        WsClient watcher = connect();
        watcher.send("{\"type\":\"watch\",\"id\":1,\"users\":[]}");
        assertEquals(1, watcher.next("ack").get("id").asInt());
        watcher.send("{\"type\":\"unwatch\",\"id\":2,\"users\":[]}");
        assertEquals(2, watcher.next("ack").get("id").asInt());
        watcher.send("{\"type\":\"ping\",\"id\":3}");
        assertEquals(3, watcher.next().get("id").asInt(), "nothing came between the acks and the pong");
    }

    // ---- ping ------------------------------------------------------------------------------------

    @Test
    void pingIsAnsweredByPongWithItsId() {
        WsClient client = connect();
        client.send("{\"type\":\"ping\",\"id\":\"p1\"}");
        assertEquals("p1", client.next("pong").get("id").asText());
        client.send("{\"type\":\"ping\"}");
        assertFalse(client.next("pong").has("id"));
    }

    // ---- bound endpoint --------------------------------------------------------------------------

    @Test
    void boundEndpointJoinsOnOpenAndAcceptsMessagesWithoutDoc() {
        String doc = doc();
        WsClient ada = connect("/ws/documents/" + doc + "?user=ada&name=Ada");
        JsonNode joined = ada.next("joined");
        assertEquals(doc, joined.get("doc").asText());
        assertEquals("{}", joined.at("/members/0/state").toString());
        WsClient bob = connect("/ws/documents/" + doc);
        bob.next("joined");
        ada.next("presence");
        bob.send("{\"type\":\"update\",\"id\":1,\"state\":{\"x\":1}}");
        bob.next("ack");
        assertEquals(1, ada.next("presence").at("/member/state/x").asInt());
        bob.send("{\"type\":\"broadcast\",\"id\":2,\"doc\":\"other\",\"data\":1}");
        JsonNode error = bob.next("error");
        assertEquals("bad_request", error.get("code").asText());
        assertEquals(2, error.get("id").asInt());
    }

    @Test
    void boundEndpointWithABadDocumentIdIsRefused() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> connect("/ws/documents/bad%20id"));
    }

    // ---- resume ----------------------------------------------------------------------------------

    @Test
    void resumeReplaysMissedDurableEventsInOrderOnceThenJoined() {
        String doc = doc();
        WsClient ada = connect();
        join(ada, doc);
        WsClient bob = connect();
        JsonNode bobJoined = join(bob, doc);
        String lastSeen = bobJoined.get("offset").asText();
        ada.next("presence");
        bob.closeGracefully();
        ada.next("presence");
        for (int i = 0; i < 5; i++) {
            ada.send("{\"type\":\"broadcast\",\"doc\":\"" + doc + "\",\"data\":" + i + "}");
        }
        ada.send("{\"type\":\"update\",\"id\":9,\"doc\":\"" + doc + "\",\"state\":{\"k\":1}}");
        ada.next("ack");

        WsClient back = connect();
        back.send("{\"type\":\"join\",\"id\":\"r\",\"doc\":\"" + doc + "\",\"since\":\"" + lastSeen + "\"}");
        JsonNode leave = back.next("presence");
        assertEquals("leave", leave.get("event").asText(), "its own earlier leave is part of the missed history");
        for (int i = 0; i < 5; i++) {
            JsonNode b = back.next("broadcast");
            assertEquals(i, b.get("data").asInt());
        }
        JsonNode joined = back.next("joined");
        assertTrue(joined.get("resumed").asBoolean());
        assertEquals("r", joined.get("id").asText());
        assertEquals(1, joined.at("/members").findValues("k").size(), "ephemeral state comes with the snapshot");
        assertTrue(back.drain().isEmpty(), "each event exactly once");
    }

    @Test
    void aResumeReplaysAJoinAsItWasSentThoughTheMemberChangedItsStateSince() {
        String doc = doc();
        WsClient carol = connect();
        String lastSeen = join(carol, doc).get("offset").asText();
        WsClient ada = connect();
        join(ada, doc, ",\"state\":{\"cursor\":1,\"color\":\"#e0f\"}");
        JsonNode live = carol.next("presence");
        assertEquals("join", live.get("event").asText());
        ada.send("{\"type\":\"update\",\"id\":2,\"doc\":\"" + doc + "\",\"state\":{\"cursor\":2}}").next("ack");
        assertEquals("update", carol.next("presence").get("event").asText());

        WsClient back = connect();
        back.send("{\"type\":\"join\",\"id\":\"r\",\"doc\":\"" + doc + "\",\"since\":\"" + lastSeen + "\"}");
        assertEquals(live, back.next("presence"), "the join as it was sent, with the state the member had then");
        JsonNode joined = back.next("joined");
        assertTrue(joined.get("resumed").asBoolean());
        assertEquals(List.of(2), joined.at("/members").findValues("cursor").stream().map(JsonNode::asInt).toList(),
                "the members as they are now");
    }

    @Test
    void historyOutlivesTheLastMemberSoAResumeIntoTheEmptyDocumentReplaysIt() {
        String doc = doc();
        WsClient ada = connect();
        String lastSeen = join(ada, doc).get("offset").asText();
        for (int i = 0; i < 3; i++) {
            ada.send("{\"type\":\"broadcast\",\"id\":" + i + ",\"doc\":\"" + doc + "\",\"data\":" + i + "}");
            ada.next("ack");
        }
        ada.closeGracefully();
        await().atMost(Duration.ofSeconds(10)).until(() -> given().get("/api/documents/" + doc + "/members")
                .then().statusCode(200).extract().path("members.size()").equals(0));

        WsClient back = connect();
        back.send("{\"type\":\"join\",\"id\":\"r\",\"doc\":\"" + doc + "\",\"since\":\"" + lastSeen + "\"}");
        for (int i = 0; i < 3; i++) {
            assertEquals(i, back.next("broadcast").get("data").asInt());
        }
        JsonNode leave = back.next("presence");
        assertEquals("leave", leave.get("event").asText());
        JsonNode joined = back.next("joined");
        assertTrue(joined.get("resumed").asBoolean(), "the history of an empty document is kept");
        assertEquals(1, joined.get("members").size(), "only the one who came back");
    }

    @Test
    void resumeFromAnOffsetNeverIssuedGivesResumedFalse() {
        // any string the server did not issue, however it looks: empty, long, past 64 bits (a Redis
        // stream id of two such numbers is refused by Redis itself)
        for (String since : List.of("1-1", "garbage", "99999999999999-0", "", "x".repeat(300),
                "99999999999999999999-0", "1-99999999999999999999")) {
            String doc = doc();
            WsClient ada = connect();
            String adaId = join(ada, doc).get("self").asText();
            WsClient back = connect();
            back.send("{\"type\":\"join\",\"doc\":\"" + doc + "\",\"since\":\"" + since + "\"}");
            JsonNode joined = back.next("joined");
            assertFalse(joined.get("resumed").asBoolean(), since);
            assertEquals(java.util.Set.of(adaId, joined.get("self").asText()),
                    memberIds(joined.get("members")), "rebuild from members");
        }
    }

    /** The history keeps {@code history.size} events (50 in tests) for a resume, whatever the resuming join adds. */
    @Test
    void aResumeThatMissedAsManyEventsAsTheHistoryKeepsGetsThemAll() {
        String doc = doc();
        WsClient ada = connect();
        String offset = join(ada, doc).get("offset").asText();
        for (int i = 0; i < 50; i++) {
            given().body("{\"data\":" + i + "}").post("/api/documents/" + doc + "/broadcast").then().statusCode(200);
        }
        WsClient back = connect();
        back.send("{\"type\":\"join\",\"doc\":\"" + doc + "\",\"since\":\"" + offset + "\"}");
        for (int i = 0; i < 50; i++) {
            assertEquals(i, back.next("broadcast").get("data").asInt());
        }
        assertTrue(back.next("joined").get("resumed").asBoolean());
    }

    @Test
    void resumeFromTrimmedHistoryGivesResumedFalse() {
        String doc = doc();
        WsClient ada = connect();
        String offset = join(ada, doc).get("offset").asText();
        for (int i = 0; i < 400; i++) {
            given().body("{\"data\":" + i + "}").post("/api/documents/" + doc + "/broadcast").then().statusCode(200);
        }
        WsClient back = connect();
        back.send("{\"type\":\"join\",\"doc\":\"" + doc + "\",\"since\":\"" + offset + "\"}");
        JsonNode joined = back.next("joined");
        assertFalse(joined.get("resumed").asBoolean());
        assertEquals(2, joined.get("members").size());
    }

    // ---- REST ------------------------------------------------------------------------------------

    @Test
    void restMembersListsTheDocument() {
        String doc = doc();
        WsClient ada = connect();
        JsonNode joined = joinAs(ada, doc, "ada", "Ada");
        given().get("/api/documents/" + doc + "/members").then().statusCode(200)
                .body("type", org.hamcrest.Matchers.nullValue())
                .body("doc", equalTo(doc))
                .body("members.size()", equalTo(1))
                .body("members[0].id", equalTo(joined.get("self").asText()))
                .body("members[0].user.name", equalTo("Ada"))
                .body("offset", equalTo(joined.get("offset").asText()));
        given().get("/api/documents/" + doc() + "/members").then().statusCode(200).body("members.size()", equalTo(0));
        given().get("/api/documents/bad%20doc/members").then().statusCode(400)
                .body("type", equalTo("error")).body("code", equalTo("bad_request"));
    }

    @Test
    void restBroadcastIsDeliveredFromServerWithItsOffset() {
        String doc = doc();
        WsClient ada = connect();
        join(ada, doc);
        String offset = given().body("{\"data\":{\"note\":\"deploy at 5\"}}").post("/api/documents/" + doc + "/broadcast")
                .then().statusCode(200).extract().path("offset");
        JsonNode got = ada.next("broadcast");
        assertEquals("server", got.get("from").asText());
        assertEquals("deploy at 5", got.at("/data/note").asText());
        assertEquals(offset, got.get("offset").asText());
    }

    @Test
    void restBroadcastWithABadBodyIs400WithAClearError() {
        String doc = doc();
        given().body("not json").post("/api/documents/" + doc + "/broadcast").then().statusCode(400)
                .body("type", equalTo("error")).body("code", equalTo("bad_json"))
                .body("message", org.hamcrest.Matchers.not(org.hamcrest.Matchers.emptyString()));
        given().body("{\"dat\":1}").post("/api/documents/" + doc + "/broadcast").then().statusCode(400)
                .body("code", equalTo("bad_request"));
        given().body("[1]").post("/api/documents/" + doc + "/broadcast").then().statusCode(400)
                .body("code", equalTo("bad_request"));
        given().get("/api/documents/" + doc + "/members").then().body("offset", org.hamcrest.Matchers.notNullValue());
    }

    @Test
    void restStatusOfAnEmptyListIsAnEmptyArray() {
        assertEquals("[]", given().get("/api/status?users=").then().statusCode(200).extract().asString());
        assertEquals("[]", given().get("/api/status?users").then().statusCode(200).extract().asString());
    }

    @Test
    void restStatusRefusesABadUserList() {
        given().get("/api/status").then().statusCode(400).body("code", equalTo("bad_request"));
        given().get("/api/status?users=a,b%20c").then().statusCode(400).body("code", equalTo("bad_request"));
        given().get("/api/status?users=a,,b").then().statusCode(400);
    }

    @Test
    void metricsCountConnectionsMembersAndMessagesByType() {
        WsClient ada = connect();
        join(ada, doc());
        ada.send("{\"type\":\"ping\",\"id\":1}");
        ada.next("pong");
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        for (String name : List.of("copresence_messages_in_total{type=\"join\"", "copresence_messages_in_total{type=\"ping\"",
                "copresence_messages_out_total{type=\"joined\"", "copresence_messages_out_total{type=\"pong\"",
                "copresence_connections ", "copresence_documents ", "copresence_members ", "copresence_fanout_seconds",
                "copresence_outbound_queue_depth")) {
            assertTrue(metrics.contains(name), "missing " + name);
        }
    }

    @Test
    void healthIsLiveAndReady() {
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
    }
}
