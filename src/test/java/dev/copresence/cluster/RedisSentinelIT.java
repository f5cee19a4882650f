package dev.copresence.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.copresence.support.RedisServer;
import dev.copresence.support.ServiceNode;

/** Two nodes of the service reaching Redis through Sentinel (client type sentinel). */
class RedisSentinelIT {

    @Test
    void theWholeProtocolWorksAcrossTwoNodesThroughSentinel() throws IOException {
        try (RedisServer master = RedisServer.start()) {
            Path conf = Files.createTempFile("sentinel", ".conf");
            Files.writeString(conf, "sentinel monitor mymaster 127.0.0.1 " + master.port() + " 1\n"
                    + "sentinel down-after-milliseconds mymaster 5000\n");
            try (RedisServer sentinel = RedisServer.start(conf.toString(), "--sentinel")) {
                Map<String, String> env = Map.of("QUARKUS_REDIS_HOSTS", sentinel.uri(),
                        "QUARKUS_REDIS_CLIENT_TYPE", "sentinel", "QUARKUS_REDIS_MASTER_NAME", "mymaster",
                        "COPRESENCE_PRESENCE_TTL", "3s", "COPRESENCE_PRESENCE_RENEW_INTERVAL", "1s");
                try (ServiceNode a = ServiceNode.start(env); ServiceNode b = ServiceNode.start(env)) {
                    ProtocolTour.acrossTwoNodes(a, b, "sentinel-" + System.nanoTime());
                    ProtocolTour.statusAcrossTwoNodes(a, b, "sam");
                }
            }
        }
    }
}
