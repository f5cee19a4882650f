package dev.copresence.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import dev.copresence.support.RedisCluster;
import dev.copresence.support.ServiceNode;
import dev.copresence.support.WsClient;

/**
 * Two nodes of the service on a Redis Cluster of three masters (client type cluster): the protocol
 * works across them, with a document's keys in one slot and its events on sharded pub/sub.
 */
class RedisClusterIT {

    @Test
    void theWholeProtocolWorksAcrossTwoNodesOnARedisCluster() {
        try (RedisCluster redis = RedisCluster.start()) {
            Map<String, String> env = Map.of("QUARKUS_REDIS_HOSTS", redis.hosts(), "QUARKUS_REDIS_CLIENT_TYPE", "cluster",
                    "COPRESENCE_PRESENCE_TTL", "3s", "COPRESENCE_PRESENCE_RENEW_INTERVAL", "1s");
            try (ServiceNode a = ServiceNode.start(env); ServiceNode b = ServiceNode.start(env)) {
                // several documents, so that they land on different shards
                for (int d = 0; d < 6; d++) {
                    ProtocolTour.acrossTwoNodes(a, b, "cluster-" + d + "-" + System.nanoTime());
                }
                ProtocolTour.statusAcrossTwoNodes(a, b, "zed");
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
        try (RedisCluster redis = RedisCluster.start()) {
            Map<String, String> env = Map.of("QUARKUS_REDIS_HOSTS", redis.hosts(), "QUARKUS_REDIS_CLIENT_TYPE", "cluster");
            try (ServiceNode a = ServiceNode.start(env); ServiceNode b = ServiceNode.start(env);
                    WsClient ada = a.connect("/ws?user=ada"); WsClient bob = b.connect("/ws?user=bob")) {
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
            }
        }
    }
}
