package dev.copresence.engine;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import java.net.URI;
import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.RawWebSocket;
import dev.copresence.support.RedisResource;
import dev.copresence.support.RenewEverySecond;
import dev.copresence.support.WsClient;

/**
 * On Redis a join waits for the registry, and a client's next messages wait behind it. A client that
 * sends two joins and closes at once leaves the second join waiting when its socket's goodbye runs:
 * it must not be applied afterwards, or its member would stay in the document, answered for by no
 * socket, and be put back by the node's renewal (every second here) for as long as the node runs.
 */
@QuarkusTest
@QuarkusTestResource(value = RedisResource.class, restrictToAnnotatedClass = true)
@TestProfile(RenewEverySecond.class)
class QueuedBehindACloseOnRedisTest {
    @TestHTTPResource("/")
    URI base;

    @Test
    void joinsWaitingWhenTheSocketClosesLeaveNoMemberBehind() {
        for (int round = 0; round < 3; round++) {
            String first = "queued-first-" + round;
            String second = "queued-second-" + round;
            try (WsClient watcher = WsClient.connect(WsClient.ws(base, "/ws?user=watcher"));
                    RawWebSocket hostile = RawWebSocket.connect(base, "/ws?user=gone")) {
                watcher.send("{\"type\":\"join\",\"id\":1,\"doc\":\"" + second + "\"}");
                watcher.untilType("joined");
                hostile.text("{\"type\":\"join\",\"id\":1,\"doc\":\"" + first + "\"}")
                        .text("{\"type\":\"join\",\"id\":2,\"doc\":\"" + second + "\"}")
                        .text("{\"type\":\"watch\",\"id\":3,\"users\":[\"watcher\"]}")
                        .close(1000, "bye");
                // the first join's member leaves with the socket; the second never stays
                Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> given()
                        .get("/api/documents/" + first + "/members").then().body("members.size()", equalTo(0)));
                Awaitility.await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(6)).untilAsserted(() -> given()
                        .get("/api/documents/" + second + "/members").then().body("members.size()", equalTo(1)));
            }
        }
    }
}
