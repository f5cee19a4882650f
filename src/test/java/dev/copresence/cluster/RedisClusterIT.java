package dev.copresence.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import dev.copresence.support.CloseAll;
import dev.copresence.support.RedisCluster;
import dev.copresence.support.RedisServer;
import dev.copresence.support.ServiceNode;
import dev.copresence.support.WsClient;

/**
 * Two nodes of the service on a Redis Cluster of three masters (client type cluster), shared by the
 * tests: the protocol works across them, with a document's keys in one slot and its events on
 * sharded pub/sub, through dropped connections and resharding.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedisClusterIT {
    private RedisCluster redis;
    private ServiceNode a;
    private ServiceNode b;

    @BeforeAll
    void start() {
        redis = RedisCluster.start();
        Map<String, String> env = Map.of("QUARKUS_REDIS_HOSTS", redis.hosts(), "QUARKUS_REDIS_CLIENT_TYPE", "cluster",
                "COPRESENCE_PRESENCE_TTL", "3s", "COPRESENCE_PRESENCE_RENEW_INTERVAL", "1s");
        a = ServiceNode.start(env);
        b = ServiceNode.start(env);
    }

    @AfterAll
    void stop() {
        CloseAll.of(a, b, redis);
    }

    @Test
    void theWholeProtocolWorksAcrossTwoNodesOnARedisCluster() {
        // several documents, so that they land on different shards
        for (int d = 0; d < 6; d++) {
            ProtocolTour.acrossTwoNodes(a, b, "cluster-" + d + "-" + System.nanoTime());
        }
        ProtocolTour.statusAcrossTwoNodes(a, b, "zed");
    }

    /**
     * A node just started takes a burst: a connection's 64 joins at once, each of a document new to it,
     * and as many member lists read over REST. Each needs Redis (commands, and subscriptions on every
     * shard); none may wait for a connection that never comes (the Redis client's cluster pool once
     * deadlocked so, and the node answered nothing that needed Redis again).
     */
    @Test
    void aFreshNodeAnswersABurstOfJoinsAndReadsAndGoesOnAnswering() throws Exception {
        Map<String, String> env = Map.of("QUARKUS_REDIS_HOSTS", redis.hosts(), "QUARKUS_REDIS_CLIENT_TYPE", "cluster",
                "COPRESENCE_PRESENCE_TTL", "3s", "COPRESENCE_PRESENCE_RENEW_INTERVAL", "1s");
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        try (ServiceNode fresh = ServiceNode.start(env); WsClient ada = fresh.connect("/ws?user=ada")) {
            String run = Long.toString(System.nanoTime(), 36);
            List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>>> reads = new ArrayList<>();
            List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<java.io.InputStream>>> streams = new ArrayList<>();
            for (int d = 0; d < 64; d++) {
                streams.add(http.sendAsync(java.net.http.HttpRequest.newBuilder(fresh.http("/sse/documents/burst-" + run + "-" + d)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofInputStream()));
            }
            for (int d = 0; d < 64; d++) {
                ada.send("{\"type\":\"join\",\"id\":" + d + ",\"doc\":\"burst-" + run + "-" + d + "\"}");
                reads.add(http.sendAsync(java.net.http.HttpRequest.newBuilder(fresh.http("/api/documents/read-" + run + "-" + d + "/members"))
                        .build(), java.net.http.HttpResponse.BodyHandlers.ofString()));
            }
            List<String> answers = new ArrayList<>();
            for (int d = 0; d < 64; d++) {
                answers.add(ada.until(m -> m.has("id")).get("type").asText());
            }
            assertEquals(java.util.Collections.nCopies(64, "joined"), answers);
            for (var read : reads) {
                assertEquals(200, read.get(30, java.util.concurrent.TimeUnit.SECONDS).statusCode());
            }
            for (var stream : streams) {
                var opened = stream.get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertEquals(200, opened.statusCode());
                opened.body().close();
            }
            try (WsClient bob = b.connect("/ws?user=bob")) { // and it goes on: another node sees a later join's member
                bob.send("{\"type\":\"join\",\"doc\":\"burst-" + run + "-0\"}").next("joined");
                assertEquals("join", ada.untilType("presence").get("event").asText());
            }
        }
    }

    /**
     * When the pub/sub connections drop (a master's restart, a failover, a client kill), each node
     * subscribes again to every document it serves, on whichever shards they live, and events cross
     * the nodes again.
     */
    @Test
    void afterThePubSubConnectionsDropEventsCrossTheNodesAgain() {
        try (WsClient ada = a.connect("/ws?user=ada"); WsClient bob = b.connect("/ws?user=bob")) {
            List<String> docs = new ArrayList<>();
            for (int d = 0; d < 6; d++) { // on different shards
                String doc = "gap-" + d + "-" + System.nanoTime();
                docs.add(doc);
                ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
                ada.next("joined");
                bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
                bob.next("joined");
                ada.next("presence");
            }
            // per node: the status channel, its echo channel and the six documents (what earlier tests left is
            // unsubscribed by now)
            long subscriptions = 2 * (2 + docs.size());
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> subscriptions() == subscriptions);
            for (var node : redis.nodes()) {
                node.cli("CLIENT", "KILL", "TYPE", "pubsub");
            }
            Awaitility.await("both nodes ready again").atMost(Duration.ofSeconds(30))
                    .until(() -> a.ready() && b.ready());
            for (String doc : docs) {
                ada.send("{\"type\":\"broadcast\",\"doc\":\"" + doc + "\",\"data\":\"after\"}");
                var broadcast = bob.untilType("broadcast");
                assertEquals(doc, broadcast.get("doc").asText(), "the broadcast of each document, in order");
                assertEquals("after", broadcast.get("data").asText());
            }
            assertTrue(b.log().contains("Redis pub/sub connection restored"), "node B reconnected:\n" + b.log());
            // each master reported its own end: one reconnection per node, not one per master
            assertEquals(subscriptions, subscriptions(), "each channel subscribed once per node, as before");
        }
    }

    /**
     * Resharding: when a document's slot moves to another master, Redis ends the nodes' sharded
     * subscriptions to it. Each node subscribes again where the slot now lives, and catches up on
     * what was published meanwhile.
     */
    @Test
    void aDocumentWhoseSlotMovesToAnotherMasterKeepsItsEvents() {
        try (WsClient ada = a.connect("/ws?user=ada"); WsClient bob = b.connect("/ws?user=bob")) {
            String doc = "moving-" + System.nanoTime();
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            ada.next("presence");
            ada.send("{\"type\":\"broadcast\",\"id\":1,\"doc\":\"" + doc + "\",\"data\":\"before\"}").next("ack");
            assertEquals("before", bob.next("broadcast").get("data").asText());

            moveSlot("cp:{" + doc + "}:events");
            ada.send("{\"type\":\"broadcast\",\"id\":2,\"doc\":\"" + doc + "\",\"data\":\"moved\"}").next("ack");
            Awaitility.await("both nodes ready again").atMost(Duration.ofSeconds(30)).until(() -> a.ready() && b.ready());
            ada.send("{\"type\":\"broadcast\",\"id\":3,\"doc\":\"" + doc + "\",\"data\":\"after\"}").next("ack");
            assertEquals("moved", bob.next("broadcast").get("data").asText());
            assertEquals("after", bob.next("broadcast").get("data").asText());
        }
    }

    /**
     * The cluster scales out: a new master takes a slot after the nodes connected. A document first
     * joined there is subscribed on a master the nodes' pub/sub connections did not know (the client
     * opens a connection to it that hands nothing to the node); its events still cross the nodes.
     */
    @Test
    void aDocumentOnAMasterAddedAfterTheNodesStartedCarriesItsEvents() {
        RedisServer added = redis.addMaster();
        String doc = "scaled-out-" + System.nanoTime();
        moveSlot("cp:{" + doc + "}:events", added);
        try (WsClient ada = a.connect("/ws?user=ada"); WsClient bob = b.connect("/ws?user=bob")) {
            // both at once: each node waits out its unconfirmed subscription (3 s) before it takes a new connection
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
            bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
            ada.untilType("joined");
            bob.untilType("joined");
            bob.send("{\"type\":\"broadcast\",\"id\":1,\"doc\":\"" + doc + "\",\"data\":\"to the new master\"}").untilType("ack");
            assertEquals("to the new master", ada.untilType("broadcast").get("data").asText());
            ada.send("{\"type\":\"update\",\"doc\":\"" + doc + "\",\"state\":{\"x\":1}}");
            assertEquals(1, bob.until(m -> "update".equals(m.path("event").asText())).path("member").path("state").path("x").asInt());
        }
    }

    /**
     * A document's last local member leaves and a member joins again at once: the answer to the
     * node's own unsubscription, arriving after the new subscription, is not taken for Redis ending
     * the subscription (which would make the node reconnect and catch up everything).
     */
    @Test
    void leavingAndJoiningAgainAtOnceKeepsTheSubscription() {
        try (WsClient ada = a.connect("/ws?user=ada"); WsClient bob = b.connect("/ws?user=bob")) {
            String doc = "rejoin-" + System.nanoTime();
            bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            for (int i = 0; i < 30; i++) {
                int n = i;
                // back to back: the join's subscription goes out while the leave's unsubscription is answered
                ada.send("{\"type\":\"leave\",\"doc\":\"" + doc + "\"}");
                ada.send("{\"type\":\"join\",\"id\":" + n + ",\"doc\":\"" + doc + "\"}");
                ada.until(m -> "joined".equals(m.path("type").asText()) && m.path("id").asInt(-1) == n);
            }
            bob.send("{\"type\":\"broadcast\",\"id\":1,\"doc\":\"" + doc + "\",\"data\":\"still here\"}").untilType("ack");
            assertEquals("still here", ada.next("broadcast").get("data").asText());
            assertTrue(!a.log().contains("Redis ended the subscription to cp:{" + doc), "no reconnection:\n" + a.log());
        }
    }

    /** Moves the slot of {@code key}, with its keys, from the master that has it to another, as resharding does. */
    private void moveSlot(String key) {
        RedisServer source = redis.ownerOf(slotOf(key));
        moveSlot(key, redis.nodes().stream().filter(m -> m != source).findFirst().orElseThrow());
    }

    private void moveSlot(String key, RedisServer target) {
        List<RedisServer> masters = redis.nodes();
        String slot = Integer.toString(slotOf(key));
        RedisServer source = redis.ownerOf(slotOf(key));
        String sourceId = source.cli("CLUSTER", "MYID");
        String targetId = target.cli("CLUSTER", "MYID");
        assertEquals("OK", target.cli("CLUSTER", "SETSLOT", slot, "IMPORTING", sourceId));
        assertEquals("OK", source.cli("CLUSTER", "SETSLOT", slot, "MIGRATING", targetId));
        List<String> keys = source.cli("CLUSTER", "GETKEYSINSLOT", slot, "1000").lines().filter(k -> !k.isEmpty()).toList();
        if (!keys.isEmpty()) {
            List<String> args = new ArrayList<>(List.of("MIGRATE", "127.0.0.1", Integer.toString(target.port()), "", "0", "5000", "KEYS"));
            args.addAll(keys);
            assertEquals("OK", source.cli(args.toArray(String[]::new)));
        }
        for (RedisServer m : List.of(target, source)) {
            assertEquals("OK", m.cli("CLUSTER", "SETSLOT", slot, "NODE", targetId));
        }
        masters.stream().filter(m -> m != source && m != target).forEach(m -> m.cli("CLUSTER", "SETSLOT", slot, "NODE", targetId));
    }

    private int slotOf(String key) {
        return Integer.parseInt(redis.nodes().get(0).cli("CLUSTER", "KEYSLOT", key));
    }

    /** Subscriptions (plain and sharded) of every connection, over every master. */
    private long subscriptions() {
        return redis.nodes().stream().flatMap(node -> node.cli("CLIENT", "LIST", "TYPE", "pubsub").lines())
                .flatMap(client -> Arrays.stream(client.split(" ")))
                .filter(field -> field.startsWith("sub=") || field.startsWith("ssub="))
                .mapToLong(field -> Long.parseLong(field.substring(field.indexOf('=') + 1)))
                .sum();
    }
}
