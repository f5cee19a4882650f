package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.ext.web.Router;

import dev.copresence.support.Collected;
import dev.copresence.support.SseClient;
import dev.copresence.support.WsClient;

/**
 * An open event stream does not keep the headers its reader sent: a stream lasts as long as its
 * reader wants, and its request's headers (up to the 20 KiB limit) would stay with it (SseSink).
 */
@QuarkusTest
class SseRequestReleaseTest {
    /** Sees every stream request first, while a test records: a weak reference to its cookie. */
    @ApplicationScoped
    static class StreamRequests {
        static volatile boolean recording;
        static final List<WeakReference<String>> cookies = new CopyOnWriteArrayList<>();
        /** Whether the request hands out the very string it holds (else a weak reference to it would prove nothing). */
        static volatile boolean cookieIsHeldAsGiven;

        void route(@Observes Router router) {
            router.route("/sse/documents/*").order(Integer.MIN_VALUE).handler(ctx -> {
                String cookie = ctx.request().getHeader("Cookie");
                if (recording && cookie != null) {
                    cookieIsHeldAsGiven = cookie == ctx.request().getHeader("Cookie");
                    cookies.add(new WeakReference<>(cookie));
                }
                ctx.next();
            });
        }
    }

    @TestHTTPResource("/")
    URI base;

    @AfterEach
    void stopRecording() {
        StreamRequests.recording = false;
        StreamRequests.cookies.clear();
    }

    @Test
    void anOpenStreamKeepsNoneOfItsRequestsHeaders() {
        StreamRequests.recording = true;
        String doc = "sse-release-" + System.nanoTime();
        try (SseClient stream = SseClient.open(base.resolve("/sse/documents/" + doc),
                Map.of("Cookie", "session=" + "c".repeat(8_000)))) {
            assertEquals(200, stream.status());
            assertNotNull(stream.next("members"));
            StreamRequests.recording = false;
            assertEquals(1, StreamRequests.cookies.size(), "the stream request's cookie seen");
            assertTrue(StreamRequests.cookieIsHeldAsGiven, "the request holds the cookie string it hands out");
            WeakReference<String> cookie = StreamRequests.cookies.get(0);

            Collected.await(cookie);

            // and the stream it answered still streams
            try (WsClient ada = WsClient.connect(WsClient.ws(base, "/ws?user=ada"))) {
                ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
                ada.next("joined");
                assertNotNull(stream.next("presence"));
            }
        }
    }
}
