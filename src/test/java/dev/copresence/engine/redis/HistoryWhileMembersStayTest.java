package dev.copresence.engine.redis;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.mutiny.redis.client.Command;
import io.vertx.mutiny.redis.client.Redis;
import io.vertx.mutiny.redis.client.Request;

import dev.copresence.support.RedisResource;
import dev.copresence.support.WsClient;

/**
 * "History is kept after the last member leaves, for the history TTL": so, while members stay, it is
 * kept whatever time passes without an event. On Redis the history stream's expiry was set only by
 * events, so a document whose members stayed quiet for the history TTL lost it, and their resumes
 * came back resumed:false. Each renewal of the members (every 300 ms here) now sets it again.
 */
@QuarkusTest
@QuarkusTestResource(value = RedisResource.class, restrictToAnnotatedClass = true)
@TestProfile(HistoryWhileMembersStayTest.FastRenewal.class)
class HistoryWhileMembersStayTest {
    public static class FastRenewal implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("copresence.presence.renew-interval", "300ms");
        }
    }

    @TestHTTPResource("/")
    URI base;
    // looked up lazily, as the service does (a plain injection point would start the Redis client in
    // every in-memory test of this build)
    @Inject
    Instance<Redis> redis;

    @Test
    void theHistoryOfADocumentWithMembersDoesNotRunOutWhileTheyStayQuiet() {
        String doc = "quiet-members-" + Long.toString(System.nanoTime(), 36);
        try (WsClient member = WsClient.connect(WsClient.ws(base, "/ws?user=quiet"))) {
            member.send("{\"type\":\"join\",\"id\":1,\"doc\":\"" + doc + "\"}");
            member.untilType("joined");
            long afterJoin = expiresInMillis(doc);
            assertTrue(afterJoin > 0, "the join is history, with an expiry: " + afterJoin);
            // no event since the join: only a renewal can set the expiry back up
            Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                    .until(() -> expiresInMillis(doc) > afterJoin);
        }
    }

    private long expiresInMillis(String doc) {
        return redis.get().send(Request.cmd(Command.PTTL).arg(RedisKeys.log(doc))).await().atMost(Duration.ofSeconds(5))
                .toLong();
    }
}
