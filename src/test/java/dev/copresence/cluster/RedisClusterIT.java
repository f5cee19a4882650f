package dev.copresence.cluster;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.copresence.support.RedisCluster;
import dev.copresence.support.ServiceNode;

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
}
