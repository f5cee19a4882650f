package dev.copresence.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.copresence.support.RedisServer;
import dev.copresence.support.ServiceNode;
import dev.copresence.support.WsClient;

/**
 * Redis goes away and comes back empty (no persistence): while it is down, nodes keep their
 * connections, refuse what they cannot do with {@code internal} and report not ready; once it is
 * back they re-assert their members and subscriptions within a renewal interval, and no client hears
 * a spurious leave or join.
 */
class RedisRestartIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aRedisRestartWithoutPersistenceIsInvisibleToClients() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            Map<String, String> env = renewingEverySecond(redis);
            try (ServiceNode a = ServiceNode.start(env); ServiceNode b = ServiceNode.start(env);
                    WsClient ada = a.connect("/ws?user=ada"); WsClient bob = b.connect("/ws?user=bob")) {
                String doc = "restart-" + System.nanoTime();
                ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\",\"state\":{\"c\":1}}");
                String adaId = ada.next("joined").get("self").asText();
                bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
                String bobId = bob.next("joined").get("self").asText();
                ada.next("presence");

                redis.stop();
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !a.ready());
                ada.send("{\"type\":\"broadcast\",\"id\":1,\"doc\":\"" + doc + "\",\"data\":\"lost?\"}");
                JsonNode refused = ada.next("error");
                assertEquals("internal", refused.get("code").asText(), "a clear error while Redis is down");
                assertTrue(!ada.isClosed() && !bob.isClosed(), "connections stay open");

                redis.restart();
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(a::ready);
                Awaitility.await().atMost(Duration.ofSeconds(10))
                        .untilAsserted(() -> assertEquals(Set.of(adaId, bobId), members(b, doc)));
                assertEquals(1, JSON.readTree(a.get("/api/documents/" + doc + "/members")).at("/members")
                        .findValues("c").size(), "state re-asserted as it was");

                // broadcasts flow again across nodes, and the first thing each client hears is that broadcast
                Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    ada.send("{\"type\":\"broadcast\",\"id\":2,\"doc\":\"" + doc + "\",\"data\":\"back\"}");
                    JsonNode answer = ada.until(m -> m.path("id").asInt() == 2);
                    assertEquals("ack", answer.get("type").asText());
                });
                List<JsonNode> heardByBob = new ArrayList<>();
                JsonNode m;
                while (!"broadcast".equals((m = bob.next()).path("type").asText())) {
                    heardByBob.add(m);
                }
                assertEquals("back", m.get("data").asText());
                assertTrue(heardByBob.isEmpty(), "no spurious leave/join reached bob: " + heardByBob);
                for (JsonNode heard : ada.drain()) {
                    assertTrue(!"presence".equals(heard.path("type").asText()), "no spurious presence for ada: " + heard);
                }
            }
        }
    }

    /**
     * A member whose connection closes while Redis is down cannot be recorded as gone, and Redis comes
     * back without it: no node would ever reap it, and the others would keep it in their lists for
     * good. Its node announces the leave once Redis answers, once.
     */
    @Test
    void aMemberWhoLeftWhileRedisWasDownLeavesForTheOthersOnceItIsBack() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            Map<String, String> env = renewingEverySecond(redis);
            try (ServiceNode a = ServiceNode.start(env); ServiceNode b = ServiceNode.start(env);
                    WsClient ada = a.connect("/ws?user=ada")) {
                String doc = "left-meanwhile-" + System.nanoTime();
                ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
                String adaId = ada.next("joined").get("self").asText();
                String carolId;
                try (WsClient carol = b.connect("/ws?user=carol")) {
                    carol.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
                    carolId = carol.next("joined").get("self").asText();
                    assertEquals("join", ada.next("presence").get("event").asText());

                    redis.stop();
                    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !b.ready());
                }
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> b.log().contains("leave of " + carolId));
                redis.restart();

                JsonNode leave = ada.next("presence");
                assertEquals("leave", leave.get("event").asText(), leave.toString());
                assertEquals(carolId, leave.at("/member/id").asText());
                assertEquals("closed", leave.get("reason").asText());
                assertEquals(Set.of(adaId), members(a, doc));
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> a.ready() && b.ready());
                for (JsonNode heard : ada.drain()) {
                    assertTrue(!"presence".equals(heard.path("type").asText()), "announced once: " + heard);
                }
            }
        }
    }

    /**
     * The same for a user's last connection: its going offline could not be written, and Redis came
     * back without the user. Its node writes its count again, and the user goes offline for the
     * others' watchers.
     */
    @Test
    void aUserWhoseLastConnectionClosedWhileRedisWasDownGoesOfflineOnceItIsBack() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            Map<String, String> env = renewingEverySecond(redis);
            try (ServiceNode a = ServiceNode.start(env); ServiceNode b = ServiceNode.start(env);
                    WsClient ada = a.connect("/ws?user=ada")) {
                try (WsClient carol = b.connect("/ws?user=carol")) {
                    Awaitility.await().atMost(Duration.ofSeconds(10))
                            .until(() -> JSON.readTree(a.get("/api/status?users=carol")).get(0).get("online").asBoolean());
                    ada.send("{\"type\":\"watch\",\"id\":\"w\",\"users\":[\"carol\"]}");
                    assertTrue(ada.next("status").get("online").asBoolean(), "carol online first");
                    ada.next("ack");

                    redis.stop();
                    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !b.ready());
                }
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> b.log().contains("online status of a user not recorded"));
                redis.restart();

                JsonNode offline = ada.next("status");
                assertEquals("carol", offline.get("user").asText());
                assertEquals(false, offline.get("online").asBoolean(), offline.toString());
            }
        }
    }

    /**
     * A Redis that hangs (here paused for 12 s, as a stopped process or a host gone without a reset
     * would): a message that needs it is answered with {@code internal} while it still hangs, and the
     * connection's next message (a ping) is answered after it, not when Redis comes back. What timed
     * out may still be done once Redis answers; the member's record then says so too.
     */
    @Test
    void whileRedisHangsAMessageIsAnsweredWithInternalAndTheNextOneAfterIt() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            try (ServiceNode a = ServiceNode.start(Map.of("QUARKUS_REDIS_HOSTS", redis.uri()));
                    WsClient ada = a.connect("/ws?user=ada"); WsClient bob = a.connect("/ws?user=bob")) {
                String doc = "hang-" + System.nanoTime();
                ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
                bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
                assertEquals("join", ada.next("presence").get("event").asText());

                redis.cli("CLIENT", "PAUSE", "12000", "ALL");
                ada.send("{\"type\":\"update\",\"id\":1,\"doc\":\"" + doc + "\",\"state\":{\"c\":1}}");
                ada.send("{\"type\":\"ping\",\"id\":2}");
                JsonNode refused = ada.next();
                assertEquals("error", refused.get("type").asText(), "answered before Redis answers again: " + refused);
                assertEquals("internal", refused.get("code").asText());
                assertEquals(1, refused.get("id").asInt());
                assertEquals("{\"type\":\"pong\",\"id\":2}", ada.next().toString());

                Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    ada.send("{\"type\":\"update\",\"id\":3,\"doc\":\"" + doc + "\",\"state\":{\"d\":4}}");
                    assertEquals("ack", ada.until(m -> m.path("id").asInt() == 3).get("type").asText());
                });
                // the update that timed out was applied once Redis answered: bob saw it, and the next one keeps it
                JsonNode last = bob.until(m -> m.at("/member/state/d").asInt() == 4);
                assertEquals("{\"c\":1,\"d\":4}", last.at("/member/state").toString());
            }
        }
    }

    @Test
    void aJoinAnsweredInternalThatRedisRanLaterLeavesNoMemberBehind() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            // renewals (and the leaves tried again with them) every second; a member expires only after a minute
            try (ServiceNode a = ServiceNode.start(Map.of("QUARKUS_REDIS_HOSTS", redis.uri(), "COPRESENCE_PRESENCE_TTL", "60s",
                    "COPRESENCE_PRESENCE_RENEW_INTERVAL", "1s"));
                    WsClient ada = a.connect("/ws?user=ada"); WsClient bob = a.connect("/ws?user=bob")) {
                String doc = "hung-join-" + System.nanoTime();
                ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");

                redis.cli("CLIENT", "PAUSE", "5000", "ALL");
                assertEquals("internal", bob.send("{\"type\":\"join\",\"id\":1,\"doc\":\"" + doc + "\"}").next("error")
                        .get("code").asText());

                // Redis ran the join once it answered again: ada saw bob join, then leave, long before any expiry
                JsonNode joined = ada.until(m -> "join".equals(m.path("event").asText()));
                String ghost = joined.at("/member/id").asText();
                JsonNode left = ada.until(m -> "leave".equals(m.path("event").asText()));
                assertEquals(ghost, left.at("/member/id").asText());
                assertEquals("timeout", left.get("reason").asText(), "no socket answered for it");
                assertFalse(members(a, doc).contains(ghost), "nor is it stored");
                bob.send("{\"type\":\"join\",\"id\":2,\"doc\":\"" + doc + "\"}").next("joined"); // and bob can join again
            }
        }
    }

    /** Two nodes on this Redis notice what it lost within a second, and a member's expiry within three. */
    private static Map<String, String> renewingEverySecond(RedisServer redis) {
        return Map.of("QUARKUS_REDIS_HOSTS", redis.uri(), "COPRESENCE_PRESENCE_TTL", "3s", "COPRESENCE_PRESENCE_RENEW_INTERVAL", "1s");
    }

    private static Set<String> members(ServiceNode node, String doc) throws Exception {
        Set<String> ids = new HashSet<>();
        JSON.readTree(node.get("/api/documents/" + doc + "/members")).get("members").forEach(m -> ids.add(m.get("id").asText()));
        return ids;
    }
}
