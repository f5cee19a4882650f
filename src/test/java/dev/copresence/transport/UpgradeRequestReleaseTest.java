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
import io.vertx.core.MultiMap;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import dev.copresence.support.Collected;
import dev.copresence.support.WsClient;

/**
 * An open connection does not keep the HTTP request it was upgraded from, nor its headers: what an
 * idle joined connection costs in memory is the connection, not its handshake (UpgradeChecks).
 */
@QuarkusTest
class UpgradeRequestReleaseTest {
    /** Sees every upgrade request first, while a test records: a weak reference to its routing context. */
    @ApplicationScoped
    static class UpgradeRequests {
        static volatile boolean recording;
        static final List<WeakReference<RoutingContext>> seen = new CopyOnWriteArrayList<>();
        static final List<WeakReference<String>> cookies = new CopyOnWriteArrayList<>();
        static final List<WeakReference<MultiMap>> headers = new CopyOnWriteArrayList<>();
        /** Whether the request hands out the very string it holds (else a weak reference to it would prove nothing). */
        static volatile boolean cookieIsHeldAsGiven;

        void route(@Observes Router router) {
            router.route("/ws*").order(Integer.MIN_VALUE).handler(ctx -> {
                if (recording) {
                    seen.add(new WeakReference<>(ctx));
                    String cookie = ctx.request().getHeader("Cookie");
                    if (cookie != null) {
                        cookieIsHeldAsGiven = cookie == ctx.request().getHeader("Cookie");
                        cookies.add(new WeakReference<>(cookie));
                    }
                    headers.add(new WeakReference<>(ctx.request().headers()));
                }
                ctx.next();
            });
        }
    }

    @TestHTTPResource("/")
    URI base;

    @AfterEach
    void stopRecording() {
        UpgradeRequests.recording = false;
        UpgradeRequests.seen.clear();
        UpgradeRequests.cookies.clear();
        UpgradeRequests.headers.clear();
    }

    @Test
    void aJoinedConnectionDoesNotHoldItsUpgradeRequest() {
        UpgradeRequests.recording = true;
        try (WsClient client = WsClient.connect(WsClient.ws(base, "/ws"))) {
            client.send("{\"type\":\"join\",\"doc\":\"release-1\",\"state\":{\"x\":1}}");
            client.next("joined");
            UpgradeRequests.recording = false;
            assertEquals(1, UpgradeRequests.seen.size(), "one upgrade request seen");
            WeakReference<RoutingContext> request = UpgradeRequests.seen.get(0);

            Collected.await(request);

            // and the connection it became still works
            client.send("{\"type\":\"ping\"}");
            assertNotNull(client.next("pong"));
        }
    }

    @Test
    void anOpenConnectionKeepsNoneOfTheHeadersItsHandshakeDoesNotNeed() {
        UpgradeRequests.recording = true;
        Map<String, String> heavy = Map.of("Cookie", "session=" + "c".repeat(8_000), "X-Padding", "p".repeat(8_000));
        try (WsClient client = WsClient.connect(WsClient.ws(base, "/ws"), heavy)) {
            client.send("{\"type\":\"join\",\"doc\":\"release-2\"}");
            client.next("joined");
            UpgradeRequests.recording = false;
            assertEquals(1, UpgradeRequests.cookies.size(), "the upgrade request's cookie seen");
            assertTrue(UpgradeRequests.cookieIsHeldAsGiven, "the request holds the cookie string it hands out");
            WeakReference<String> cookie = UpgradeRequests.cookies.get(0);

            Collected.await(cookie);
            MultiMap kept = UpgradeRequests.headers.get(0).get();
            assertTrue(kept == null || kept.isEmpty(), "Vert.x's WebSocket keeps no header once open: " + kept);

            client.send("{\"type\":\"ping\"}");
            assertNotNull(client.next("pong"));
        }
    }
}
