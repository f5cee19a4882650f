package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.IntStream;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.WsClient;

/**
 * Sockets that open together, as a node's clients do when they reconnect after a deploy, are pinged
 * a share at each tick of the ping period rather than all at the same tick of every period.
 */
@QuarkusTest
@TestProfile(PingsSpreadOverThePeriodTest.ThreeSecondPings.class)
class PingsSpreadOverThePeriodTest {
    public static class ThreeSecondPings implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("copresence.ping-interval", "3s", "copresence.idle-timeout", "30s");
        }
    }

    private static final int SOCKETS = 100;
    private static final long PERIOD_NANOS = TimeUnit.SECONDS.toNanos(3);

    @TestHTTPResource("/")
    URI base;

    @Test
    void socketsThatOpenTogetherArePingedAcrossThePeriodEachWithinIt() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        AtomicLongArray opened = new AtomicLongArray(SOCKETS);
        AtomicLongArray firstPing = new AtomicLongArray(SOCKETS);
        List<WebSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < SOCKETS; i++) {
                opened.set(i, System.nanoTime());
                sockets.add(http.newWebSocketBuilder()
                        .buildAsync(WsClient.ws(base, "/ws"), new FirstPing(firstPing, i))
                        .get(10, TimeUnit.SECONDS));
            }
            Awaitility.await().atMost(Duration.ofSeconds(15))
                    .until(() -> IntStream.range(0, SOCKETS).allMatch(i -> firstPing.get(i) != 0));

            long[] waited = IntStream.range(0, SOCKETS).mapToLong(i -> firstPing.get(i) - opened.get(i)).toArray();
            // pinged a period after it opened, no socket would hear its first ping before 2.5 s (the period
            // less half a tick); spread over the period, about two thirds do within 2 s, a half or more even
            // when the scheduler skips a tick, and a tenth cannot be missed by chance
            long early = IntStream.range(0, SOCKETS).filter(i -> waited[i] < PERIOD_NANOS * 2 / 3).count();
            assertTrue(early >= SOCKETS / 10, early + " of " + SOCKETS + " sockets had a ping within two thirds of the period");
            // and none waits longer than the period and a tick (and some slack for a busy machine)
            long longest = IntStream.range(0, SOCKETS).mapToLong(i -> waited[i]).max().orElseThrow();
            assertTrue(longest < PERIOD_NANOS + TimeUnit.MILLISECONDS.toNanos(2000),
                    "a socket waited " + TimeUnit.NANOSECONDS.toMillis(longest) + " ms for its first ping");
        } finally {
            sockets.forEach(WebSocket::abort);
        }
    }

    /** Notes when the server's first ping came; the JDK's client answers every ping with a pong by itself. */
    private record FirstPing(AtomicLongArray firstPing, int index) implements WebSocket.Listener {
        @Override
        public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
            firstPing.compareAndSet(index, 0, System.nanoTime());
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            webSocket.request(1);
            return null;
        }
    }
}
