package dev.copresence.transport;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.empty;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.ShortIdleTimeouts;
import dev.copresence.support.WsClient;

/**
 * The HTTP idle timeout closes what is quiet and spares what is alive. At 4 s here (90 s by
 * default; Quarkus's own default, 30 minutes, let a socket that never finished a request be held
 * for half an hour), with pings every second.
 */
@QuarkusTest
@TestProfile(ShortIdleTimeouts.class)
class QuietConnectionsTest {

    @TestHTTPResource("/")
    URI base;

    @ParameterizedTest
    @ValueSource(strings = { "", "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n" })
    void aConnectionThatNeverFinishesARequestIsClosed(String sentSoFar) throws IOException {
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.getOutputStream().write(sentSoFar.getBytes(StandardCharsets.US_ASCII));
            socket.setSoTimeout(15_000);
            InputStream in = socket.getInputStream();
            assertEquals(-1, in.read(), "the server closes the connection, sending nothing");
        }
    }

    @Test
    void aWebSocketThatOnlyAnswersPingsIsNotClosedForSilence() {
        try (WsClient client = WsClient.connect(WsClient.ws(base, "/ws?user=quiet-ada"))) {
            // the client sends nothing of its own: only its pongs to the server's pings are heard,
            // and they keep the 2.5 s idle timeout (4408) away
            Awaitility.await().during(Duration.ofSeconds(6)).atMost(Duration.ofSeconds(10)).until(() -> !client.isClosed());
            client.send("{\"type\":\"ping\",\"id\":\"still-here\"}");
            assertEquals("still-here", client.next("pong").path("id").asText());
        }
    }

    @Test
    void aLongPollIsAnsweredBeforeTheIdleTimeoutClosesItsConnection() {
        // asked to wait 25 s on a quiet document: a wait that long would have its connection closed
        // at 4 s with no answer at all
        given().queryParam("timeout", 25)
                .when().get(base.resolve("/poll/documents/quiet-poll"))
                .then().statusCode(200).body("events", empty());
    }
}
