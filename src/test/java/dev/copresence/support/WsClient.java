package dev.copresence.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A WebSocket client for black-box tests (the JDK's, so it works against a packaged jar too). Every
 * text frame received is parsed and queued in order; {@link #next} takes them one by one.
 */
public final class WsClient implements AutoCloseable {
    /** Generous: the suite shares two cores with whatever else the machine runs. */
    public static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final LinkedBlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    private final WebSocket socket;

    private WsClient(URI uri, java.util.Map<String, String> headers) {
        try {
            WebSocket.Builder builder = HTTP.newWebSocketBuilder().connectTimeout(TIMEOUT);
            headers.forEach(builder::header);
            this.socket = builder.buildAsync(uri, new Listener()).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof java.net.http.WebSocketHandshakeException refused) {
                throw new IllegalStateException("upgrade refused: HTTP " + refused.getResponse().statusCode(), refused);
            }
            throw new IllegalStateException("upgrade refused: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    public static WsClient connect(URI uri) {
        return new WsClient(uri, java.util.Map.of());
    }

    public static WsClient connect(URI uri, java.util.Map<String, String> headers) {
        return new WsClient(uri, headers);
    }

    /** ws:// URI of a path on the server under test. */
    public static URI ws(URI base, String pathAndQuery) {
        String root = base.toString().replaceFirst("^http", "ws").replaceAll("/+$", "");
        return URI.create(root + pathAndQuery);
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    inbox.add(JSON.readTree(partial.toString()));
                } catch (Exception e) {
                    inbox.add(JSON.createObjectNode().put("type", "unparseable").put("text", partial.toString()));
                }
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closeCode.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closeCode.complete(1006);
        }
    }

    public WsClient send(String json) {
        socket.sendText(json, true).join();
        return this;
    }

    public WsClient sendBinary(byte[] bytes) {
        socket.sendBinary(ByteBuffer.wrap(bytes), true).join();
        return this;
    }

    /** The next message, in arrival order. */
    public JsonNode next() {
        try {
            JsonNode message = inbox.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (message == null) {
                fail("no message within " + TIMEOUT.toSeconds() + " s");
            }
            return message;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The next message, which must be of this type. */
    public JsonNode next(String type) {
        JsonNode message = next();
        assertEquals(type, message.path("type").asText(), () -> "expected a " + type + " message, got " + message);
        return message;
    }

    /** Skips messages until one matches (fails after the timeout); returns it. */
    public JsonNode until(Predicate<JsonNode> match) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        List<JsonNode> skipped = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            try {
                JsonNode message = inbox.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (message != null && match.test(message)) {
                    return message;
                }
                if (message != null) {
                    skipped.add(message);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return fail("no matching message; skipped " + skipped);
    }

    public JsonNode untilType(String type) {
        return until(m -> type.equals(m.path("type").asText()));
    }

    /**
     * Sends a ping with a fresh id and returns everything received before its pong: a barrier that
     * shows what this connection was sent up to now, with no sleep.
     */
    public List<JsonNode> drain() {
        String id = "barrier-" + System.nanoTime();
        send("{\"type\":\"ping\",\"id\":\"" + id + "\"}");
        List<JsonNode> before = new ArrayList<>();
        while (true) {
            JsonNode message = next();
            if ("pong".equals(message.path("type").asText()) && id.equals(message.path("id").asText())) {
                return before;
            }
            before.add(message);
        }
    }

    /** Whatever is queued right now, without waiting. */
    public List<JsonNode> received() {
        List<JsonNode> all = new ArrayList<>();
        inbox.drainTo(all);
        return all;
    }

    public int awaitClose() {
        try {
            return closeCode.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            return fail("connection not closed within " + TIMEOUT.toSeconds() + " s");
        }
    }

    public boolean isClosed() {
        return closeCode.isDone();
    }

    @Override
    public void close() {
        if (!socket.isOutputClosed()) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").exceptionally(t -> null);
        }
        socket.abort();
    }

    /** Closes politely and waits for the server to see it. */
    public void closeGracefully() {
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        awaitClose();
    }
}
