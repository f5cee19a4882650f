package dev.copresence.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import dev.copresence.support.CloseAll;
import dev.copresence.support.RedisServer;
import dev.copresence.support.ServiceNode;
import dev.copresence.support.SilencingProxy;
import dev.copresence.support.WsClient;

/**
 * A node's pub/sub connection goes quiet without closing (the path to Redis died without a reset),
 * while its commands still reach Redis. Nothing written on that connection could fail, as the node
 * only reads it: without a check of its own the node would hear no other node again, for good.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SilentPubSubIT {
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

    @Test
    void aNodeWhoseSubscriptionGoesSilentSubscribesAgainAndDeliversWhatWasSentMeanwhile() {
        String doc = "silent-" + System.nanoTime();
        try (WsClient ada = speaker.connect("/ws?user=ada"); WsClient bob = listener.connect("/ws?user=bob")) {
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            ada.next("presence");
            // a connection that hears is left alone, check after check (one a second here)
            Awaitility.await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6)).until(() -> proxy.subscribers() == 1);

            proxy.silenceSubscribers();
            ada.send("{\"type\":\"broadcast\",\"id\":1,\"doc\":\"" + doc + "\",\"data\":\"meanwhile\"}").next("ack");

            assertEquals("meanwhile", bob.untilType("broadcast").get("data").asText(), "caught up from the log");
            assertEquals(2, proxy.subscribers(), "subscribed again, on a new connection");
            ada.send("{\"type\":\"broadcast\",\"id\":2,\"doc\":\"" + doc + "\",\"data\":\"after\"}").next("ack");
            assertEquals("after", bob.next("broadcast").get("data").asText(), "heard live again");
            assertEquals(List.of(), bob.drain(), "nothing twice");
            assertTrue(listener.log().contains("heard nothing"), "the reason is logged:\n" + listener.log());
        }
    }

    private static Map<String, String> with(Map<String, String> common, String redisUri) {
        Map<String, String> env = new HashMap<>(common);
        env.put("QUARKUS_REDIS_HOSTS", redisUri);
        return env;
    }
}
