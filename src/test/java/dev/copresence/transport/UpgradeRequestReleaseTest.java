package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.websockets.next.HandshakeRequest;
import io.quarkus.websockets.next.OpenConnections;
import io.quarkus.websockets.next.WebSocketConnection;
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

    @Inject
    OpenConnections connections;

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

    @Test
    void connectionsThatSentTheSameHeadersShareTheStringsKeptOfThem() {
        try (WsClient first = WsClient.connect(WsClient.ws(base, "/ws?user=share-1"));
                WsClient second = WsClient.connect(WsClient.ws(base, "/ws?user=share-2"))) {
            first.send("{\"type\":\"ping\"}");
            first.next("pong");
            second.send("{\"type\":\"ping\"}");
            second.next("pong");
            HandshakeRequest a = handshakeOf("user=share-1");
            HandshakeRequest b = handshakeOf("user=share-2");

            for (String name : List.of("host", "connection", "upgrade", "sec-websocket-version")) {
                assertNotNull(a.header(name), name + " kept");
                assertEquals(a.header(name), b.header(name), name);
                assertSame(a.header(name), b.header(name), "one string for both connections' " + name);
                assertSame(keyOf(a, name), keyOf(b, name), "one string for the name " + name);
            }
            assertNotSame(a.header("sec-websocket-key"), b.header("sec-websocket-key"));
            assertTrue(!a.header("sec-websocket-key").equals(b.header("sec-websocket-key")), "each handshake its own key");
        }
    }

    private HandshakeRequest handshakeOf(String query) {
        return connections.stream().map(WebSocketConnection::handshakeRequest)
                .filter(h -> query.equals(h.query())).findFirst().orElseThrow();
    }

    private static String keyOf(HandshakeRequest request, String name) {
        return request.headers().keySet().stream().filter(name::equals).findFirst().orElseThrow();
    }
}
