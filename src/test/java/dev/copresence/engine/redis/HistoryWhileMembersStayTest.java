package dev.copresence.engine.redis;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.RedisResource;
import dev.copresence.support.RenewEverySecond;
import dev.copresence.support.WsClient;

/**
 * "History is kept after the last member leaves, for the history TTL": so, while members stay, it is
 * kept whatever time passes without an event. On Redis the history stream's expiry was set only by
 * events, so a document whose members stayed quiet for the history TTL lost it, and a member that
 * came back could not resume. Here the history TTL is 3 s and the members are renewed every second.
 */
@QuarkusTest
@QuarkusTestResource(value = RedisResource.class, restrictToAnnotatedClass = true)
@TestProfile(RenewEverySecond.class)
class HistoryWhileMembersStayTest {
    private static final Duration HISTORY_TTL = RenewEverySecond.HISTORY_TTL;

    @TestHTTPResource("/")
    URI base;

    @Test
    void aMemberWhoseDocumentStayedQuietLongerThanTheHistoryTtlResumesWhileOthersStayed() {
        String doc = "quiet-members-" + Long.toString(System.nanoTime(), 36);
        try (WsClient stays = WsClient.connect(WsClient.ws(base, "/ws?user=stays"))) {
            stays.send("{\"type\":\"join\",\"id\":1,\"doc\":\"" + doc + "\"}");
            stays.untilType("joined");
            String seen;
            try (WsClient away = WsClient.connect(WsClient.ws(base, "/ws?user=away"))) {
                away.send("{\"type\":\"join\",\"id\":1,\"doc\":\"" + doc + "\"}");
                seen = away.untilType("joined").get("offset").asText();
            }
            // no event for longer than the history TTL; the member who stayed is renewed meanwhile
            long quietSince = System.nanoTime();
            Awaitility.await().atMost(Duration.ofSeconds(15))
                    .until(() -> System.nanoTime() - quietSince > HISTORY_TTL.multipliedBy(2).toNanos());
            try (WsClient back = WsClient.connect(WsClient.ws(base, "/ws?user=away"))) {
                back.send("{\"type\":\"join\",\"id\":2,\"doc\":\"" + doc + "\",\"since\":\"" + seen + "\"}");
                JsonNode first = back.next();
                JsonNode joined = "joined".equals(first.path("type").asText()) ? first : back.untilType("joined");
                assertTrue(joined.get("resumed").asBoolean(), "the history is held while the document has members");
                assertTrue("leave".equals(first.path("event").asText()), "its own leave is replayed first: " + first);
            }
        }
    }
}
