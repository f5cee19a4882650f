package dev.copresence.transport;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

import dev.copresence.support.WsClient;

/**
 * An open socket is counted, by Copresence and by the HTTP server, without a Micrometer timer sample
 * held for each connection (ConnectionMeters); the HTTP request metrics are still there.
 */
@QuarkusTest
class ConnectionMetersTest {
    @TestHTTPResource("/")
    URI base;

    @Test
    void openSocketsAreCountedWithoutATimerPerConnection() {
        given().get("/api/status?users=meters-1").then().statusCode(200);
        try (WsClient client = WsClient.connect(WsClient.ws(base, "/ws?user=meters-1"))) {
            client.send("{\"type\":\"ping\"}");
            client.next("pong");

            String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
            assertTrue(sum(metrics, "copresence_connections") >= 1, "copresence_connections counts the socket");
            // the socket's connection and the one that asked for the metrics
            assertTrue(sum(metrics, "http_server_active_connections") >= 2, "the HTTP server counts the socket's connection");
            assertFalse(metrics.contains("http_server_websocket_connections"), "no timer per WebSocket");
            assertFalse(metrics.contains("http_server_connections_seconds"), "no timer per TCP connection");
            assertTrue(metrics.lines().anyMatch(l -> l.startsWith("http_server_requests_seconds_count{")
                    && l.contains("uri=\"/api/status\"")), "request metrics stay");
        }
    }

    /** The sum of a metric's samples (its value, or those of each of its label sets). */
    private static double sum(String metrics, String name) {
        return metrics.lines()
                .filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }
}
