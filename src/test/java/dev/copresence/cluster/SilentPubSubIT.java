package dev.copresence.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.copresence.support.CloseAll;
import dev.copresence.support.RedisServer;
import dev.copresence.support.ServiceNode;
import dev.copresence.support.SilencingProxy;
import dev.copresence.support.SseClient;
import dev.copresence.support.WsClient;

/**
 * A node's connections to Redis fail without Redis saying so. Its pub/sub connection goes quiet
 * without closing (the path to Redis died without a reset), while its commands still reach Redis:
 * nothing written on that connection could fail, as the node only reads it, and without a check of
 * its own the node would hear no other node again, for good. Or a command's answer is lost with its
 * connection: Redis ran it, and the node must not take it for refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SilentPubSubIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private RedisServer redis;
    private SilencingProxy proxy;
    private ServiceNode speaker;
    private ServiceNode listener;

    @BeforeAll
    void start() {
        redis = RedisServer.start();
        proxy = SilencingProxy.to(redis);
        Map<String, String> common = Map.of("COPRESENCE_PRESENCE_TTL", "5s", "COPRESENCE_PRESENCE_RENEW_INTERVAL", "1s");
        speaker = ServiceNode.start(with(common, redis.uri()));
        listener = ServiceNode.start(with(common, "redis://127.0.0.1:" + proxy.port()));

    }

    @AfterAll
    void stop() {
        CloseAll.of(listener, speaker, proxy, redis);
    }

    /**
     * A test that silenced or reset the listener's connections leaves it hearing Redis again: the next
     * test's join needs its subscriptions (readiness is down until it has them back).
     */
    @AfterEach
    void listenerHearsAgain() {
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(listener::ready);
    }

    @Test
    void aNodeWhoseSubscriptionGoesSilentSubscribesAgainAndDeliversWhatWasSentMeanwhile() {
        String doc = "silent-" + System.nanoTime();
        try (WsClient ada = speaker.connect("/ws?user=ada"); WsClient bob = listener.connect("/ws?user=bob")) {
            bothJoin(ada, bob, doc, null);
            // a connection that hears is left alone, check after check (one a second here)
            long subscribed = proxy.subscribers();
            Awaitility.await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6)).until(() -> proxy.subscribers() == subscribed);

            proxy.silenceSubscribers();
            ada.send("{\"type\":\"broadcast\",\"id\":1,\"doc\":\"" + doc + "\",\"data\":\"meanwhile\"}").next("ack");

            assertEquals("meanwhile", bob.untilType("broadcast").get("data").asText(), "caught up from the log");
            assertEquals(subscribed + 1, proxy.subscribers(), "subscribed again, on a new connection");
            ada.send("{\"type\":\"broadcast\",\"id\":2,\"doc\":\"" + doc + "\",\"data\":\"after\"}").next("ack");
            assertEquals("after", bob.next("broadcast").get("data").asText(), "heard live again");
            assertEquals(List.of(), bob.drain(), "nothing twice");
            assertTrue(listener.log().contains("heard nothing"), "the reason is logged:\n" + listener.log());
        }
    }

    @Test
    void aNodeWhoseConnectionsToRedisAreResetSubscribesAgainAtOnceAndTakesJoins() {
        String doc = "after-reset-" + System.nanoTime();
        try (WsClient ada = speaker.connect("/ws?user=ada"); WsClient bob = listener.connect("/ws?user=bob")) {
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            int from = listener.log().length();

            proxy.resetAll();
            Awaitility.await().atMost(Duration.ofSeconds(20))
                    .until(() -> listener.log().indexOf("Redis pub/sub connection restored", from) >= 0);
            assertFalse(listener.log().substring(from).contains("heard nothing"),
                    () -> "the reset ended the connection, not a hearing check seconds later:\n" + listener.log().substring(from));
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(listener::ready);

            bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            assertEquals("bob", ada.next("presence").at("/member/user/id").asText(), "heard across the nodes again");
        }
    }

    @Test
    void changesMadeWhileANodeCouldNotHearReachItsMembersOnceItHearsAgain() {
        String doc = "missed-changes-" + System.nanoTime();
        try (WsClient ada = speaker.connect("/ws?user=ada"); WsClient bob = listener.connect("/ws?user=bob")) {
            bothJoin(ada, bob, doc, null);
            ada.send("{\"type\":\"typing\",\"id\":1,\"doc\":\"" + doc + "\",\"typing\":true}").next("ack");
            assertTrue(bob.next("typing").get("typing").asBoolean(), "bob sees ada typing");

            int from = listener.log().length();
            proxy.silenceSubscribers(); // an update and a typing change are in no log: a catch-up cannot read them
            ada.send("{\"type\":\"update\",\"id\":2,\"doc\":\"" + doc + "\",\"state\":{\"cursor\":7}}").next("ack");
            ada.send("{\"type\":\"typing\",\"id\":3,\"doc\":\"" + doc + "\",\"typing\":false}").next("ack");

            JsonNode update = bob.until(m -> "presence".equals(m.path("type").asText()) && "update".equals(m.path("event").asText()));
            assertEquals("ada", update.at("/member/user/id").asText());
            assertEquals("{\"cursor\":7}", update.at("/member/state").toString(), "ada's state as it is now");
            assertFalse(bob.untilType("typing").get("typing").asBoolean(), "ada no longer typing");
            assertTrue(listener.log().substring(from).contains("heard nothing"), "the listener went deaf, and heard again");
        }
    }

    /**
     * An event stream that resumed with {@code Last-Event-ID} opens with no member list: the node
     * still learns who is there, so that a change it could not hear reaches the stream once it hears.
     */
    @Test
    void anEventStreamThatResumedIsPassedOnChangesMadeWhileItsNodeCouldNotHear() throws Exception {
        String doc = "resumed-stream-" + System.nanoTime();
        try (WsClient ada = speaker.connect("/ws?user=ada")) {
            String joinedAt = ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined").get("offset").asText();
            try (SseClient reader = SseClient.open(listener.http("/sse/documents/" + doc), Map.of("Last-Event-ID", joinedAt))) {
                ada.send("{\"type\":\"broadcast\",\"id\":1,\"doc\":\"" + doc + "\",\"data\":\"live\"}").next("ack");
                assertEquals("broadcast", reader.next().event(), "resumed, and hearing the document");

                proxy.silenceSubscribers();
                ada.send("{\"type\":\"update\",\"id\":2,\"doc\":\"" + doc + "\",\"state\":{\"cursor\":7}}").next("ack");

                SseClient.Event update = reader.next("presence");
                assertEquals("{\"cursor\":7}", JSON.readTree(update.data()).at("/member/state").toString(), "ada's state as it is now");
            }
        }
    }

    @Test
    void anUpdateWhoseAnswerWasLostWithItsConnectionStaysAsTheOthersSawIt() {
        String doc = "lost-answer-" + System.nanoTime();
        try (WsClient ada = speaker.connect("/ws?user=ada"); WsClient bob = listener.connect("/ws?user=bob")) {
            joinWithAFirstUpdate(ada, bob, doc, "{\"color\":\"red\"}");

            proxy.loseAnswers();
            bob.send("{\"type\":\"update\",\"id\":1,\"doc\":\"" + doc + "\",\"state\":{\"cursor\":7}}");
            assertEquals("{\"color\":\"red\",\"cursor\":7}", ada.next("presence").get("member").get("state").toString(),
                    "Redis ran the update");
            proxy.resetAll(); // within the 3 s the answer may take: a reset, not a timeout
            assertEquals("internal", bob.next("error").get("code").asText());

            bob.send("{\"type\":\"update\",\"id\":2,\"doc\":\"" + doc + "\",\"state\":{\"size\":2}}").next("ack");
            // (the node may first write the lost one again: the same state once more)
            assertEquals("{\"color\":\"red\",\"cursor\":7,\"size\":2}", ada.until(m -> m.at("/member/state/size").asInt() == 2)
                    .get("member").get("state").toString(), "the next update goes on from what ada saw");
        }
    }

    @Test
    void anUpdateThatNeverReachedRedisBeforeItsConnectionWasResetReachesTheOthersAfterAll() {
        String doc = "unsent-" + System.nanoTime();
        try (WsClient ada = speaker.connect("/ws?user=ada"); WsClient bob = listener.connect("/ws?user=bob")) {
            joinWithAFirstUpdate(ada, bob, doc, "{}");

            proxy.silenceCommands();
            bob.send("{\"type\":\"update\",\"id\":1,\"doc\":\"" + doc + "\",\"state\":{\"cursor\":7}}");
            Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> proxy.dropped("\"cursor\":7"));
            proxy.resetAll(); // Redis never had it, which the node cannot tell from a lost answer
            assertEquals("internal", bob.next("error").get("code").asText());

            assertEquals("{\"cursor\":7}", ada.next("presence").get("member").get("state").toString(),
                    "written again once Redis answers, as bob's record says");
        }
    }

    /**
     * Ada and Bob join, Bob with {@code state}, and Bob updates it once (cursor 1), which Ada sees:
     * Redis has the update's script from then on, whose first EVALSHA's NOSCRIPT could be lost too.
     */
    private static void joinWithAFirstUpdate(WsClient ada, WsClient bob, String doc, String state) {
        bothJoin(ada, bob, doc, state);
        bob.send("{\"type\":\"update\",\"id\":0,\"doc\":\"" + doc + "\",\"state\":{\"cursor\":1}}").next("ack");
        ada.next("presence");
    }

    /** Ada joins on the speaker, then Bob on the listener (with {@code bobState} unless null), and Ada sees him. */
    private static void bothJoin(WsClient ada, WsClient bob, String doc, String bobState) {
        ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
        bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"" + (bobState == null ? "" : ",\"state\":" + bobState) + "}")
                .next("joined");
        ada.next("presence");
    }

    private static Map<String, String> with(Map<String, String> common, String redisUri) {
        Map<String, String> env = new HashMap<>(common);
        env.put("QUARKUS_REDIS_HOSTS", redisUri);
        return env;
    }
}
