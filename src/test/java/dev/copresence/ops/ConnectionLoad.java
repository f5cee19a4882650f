package dev.copresence.ops;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Opens N joined WebSocket connections to a running node and holds them, for the sizing figures of
 * docs/operations.md (memory per connection, Redis commands per member). Not a test: run it with the
 * JDK's source launcher, no classpath needed:
 *
 * <pre>
 * java src/test/java/dev/copresence/ops/ConnectionLoad.java ws://127.0.0.1:8080 3000 100 120
 *      (base URI, connections, documents, seconds to hold them)
 * </pre>
 *
 * Connection i joins document {@code load-(i mod D)} through the bound endpoint
 * ({@code /ws/documents/{doc}}), as user {@code u-i}, with a small state; it answers pings (the JDK
 * client sends pongs by itself), so the idle timeout never closes it.
 */
public final class ConnectionLoad {
    public static void main(String[] args) throws Exception {
        String base = args.length > 0 ? args[0] : "ws://127.0.0.1:8080";
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        int docs = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        long holdSeconds = args.length > 3 ? Long.parseLong(args[3]) : 60;

        HttpClient client = HttpClient.newHttpClient();
        AtomicInteger joined = new AtomicInteger();
        AtomicInteger closed = new AtomicInteger();
        List<WebSocket> sockets = new ArrayList<>(n);
        long start = System.nanoTime();
        int batch = 100;
        for (int from = 0; from < n; from += batch) {
            List<CompletableFuture<WebSocket>> pending = new ArrayList<>();
            CountDownLatch joins = new CountDownLatch(Math.min(batch, n - from));
            for (int i = from; i < Math.min(n, from + batch); i++) {
                URI uri = URI.create(base + "/ws/documents/load-" + (i % docs) + "?user=u-" + i + "&name=User" + i);
                pending.add(client.newWebSocketBuilder().buildAsync(uri, new WebSocket.Listener() {
                    private final StringBuilder text = new StringBuilder();
                    private boolean counted;

                    @Override
                    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                        text.append(data);
                        if (last) {
                            if (!counted && text.indexOf("\"type\":\"joined\"") >= 0) {
                                counted = true;
                                joined.incrementAndGet();
                                joins.countDown();
                            }
                            text.setLength(0);
                        }
                        ws.request(1);
                        return null;
                    }

                    @Override
                    public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
                        closed.incrementAndGet();
                        System.err.println("closed " + code + " " + reason);
                        return null;
                    }
                }));
            }
            for (CompletableFuture<WebSocket> f : pending) {
                sockets.add(f.get(30, TimeUnit.SECONDS));
            }
            joins.await(30, TimeUnit.SECONDS);
        }
        System.out.printf("opened %d, joined %d in %d ms%n", sockets.size(), joined.get(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        for (WebSocket ws : sockets) {
            ws.sendText("{\"type\":\"update\",\"state\":{\"cursor\":1,\"selection\":[1,5]}}", true);
        }
        System.out.println("HOLDING " + n);
        Thread.sleep(TimeUnit.SECONDS.toMillis(holdSeconds));
        System.out.printf("still open %d (closed by server: %d)%n", n - closed.get(), closed.get());
        for (WebSocket ws : sockets) {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        }
        Thread.sleep(1000);
    }
}
