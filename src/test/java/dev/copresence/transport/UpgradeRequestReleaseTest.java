package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.lang.ref.WeakReference;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import dev.copresence.support.WsClient;

/**
 * An open connection does not keep the HTTP request it was upgraded from: what an idle joined
 * connection costs in memory is the connection, not its handshake (UpgradeChecks).
 */
@QuarkusTest
class UpgradeRequestReleaseTest {
    /** Sees every upgrade request first, while a test records: a weak reference to its routing context. */
    @ApplicationScoped
    static class UpgradeRequests {
        static volatile boolean recording;
        static final List<WeakReference<RoutingContext>> seen = new CopyOnWriteArrayList<>();

        void route(@Observes Router router) {
            router.route("/ws*").order(Integer.MIN_VALUE).handler(ctx -> {
                if (recording) {
                    seen.add(new WeakReference<>(ctx));
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

            Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() -> {
                System.gc();
                return request.get() == null;
            });

            // and the connection it became still works
            client.send("{\"type\":\"ping\"}");
            assertNotNull(client.next("pong"));
        }
    }
}
