package dev.copresence.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.ShortIdleTimeouts;
import dev.copresence.support.SseClient;

/**
 * An event stream's chunks are written below Vert.x's HTTP response (transport/SseSink): the HTTP
 * idle timeout must still see that the stream is written, and an HTTP/2 stream, which has no chunks,
 * must carry the same events.
 */
@QuarkusTest
@TestProfile(ShortIdleTimeouts.class) // the HTTP idle timeout at 4 s, the heartbeat (1 s) a quiet stream's only traffic
class SseFramingTest {

    @TestHTTPResource("/")
    URI base;

    @Test
    void aStreamThatIsWrittenOutlivesTheHttpIdleTimeout() {
        try (SseClient stream = SseClient.open(base.resolve("/sse/documents/framing-idle"))) {
            stream.next("members");
            // the reader sends nothing: only the heartbeats it is written tell the idle timeout it is alive
            Awaitility.await().during(Duration.ofSeconds(6)).atMost(Duration.ofSeconds(10))
                    .until(() -> !stream.ended());
            assertEquals("heartbeat", stream.nextComment(Duration.ofSeconds(5)));
        }
    }

    @Test
    void anHttp2ReaderGetsTheSameEvents() throws Exception {
        try (SseClient stream = SseClient.open(base.resolve("/sse/documents/framing-h2"), Map.of(), HttpClient.Version.HTTP_2)) {
            assertEquals(HttpClient.Version.HTTP_2, stream.version(), "the test reads over h2c");
            String offset = stream.next("members").id();
            HttpResponse<String> sent = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(base.resolve("/api/documents/framing-h2/broadcast"))
                            .POST(HttpRequest.BodyPublishers.ofString("{\"data\":{\"n\":1}}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, sent.statusCode(), sent.body());
            SseClient.Event event = stream.next("broadcast");
            assertFalse(event.id().equals(offset), "a durable event with an offset of its own");
            assertTrue(event.data().contains("\"n\":1"), event.data());
        }
    }
}
