package dev.copresence.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A black-box reader of a {@code text/event-stream}: it parses the stream as a browser's EventSource
 * would (fields, blank line ends an event, {@code :} starts a comment) and queues what it reads.
 */
public final class SseClient implements AutoCloseable {
    /** One event; {@code id} is null when the event had no id line. */
    public record Event(String id, String event, String data) {
    }

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> comments = new LinkedBlockingQueue<>();
    private final HttpResponse<Stream<String>> response;
    private final Thread reader;
    private volatile boolean ended;
    /** Why reading stopped, when the stream did not end cleanly (a reset, a chunked body cut short). */
    private volatile RuntimeException failure;

    private SseClient(HttpResponse<Stream<String>> response) {
        this.response = response;
        this.reader = new Thread(this::read, "sse-reader");
        reader.setDaemon(true);
        reader.start();
    }

    public static SseClient open(URI uri, Map<String, String> headers) {
        return open(uri, headers, HttpClient.Version.HTTP_1_1);
    }

    /** With {@code HTTP_2} on an {@code http:} URI the client asks to upgrade to h2c. */
    public static SseClient open(URI uri, Map<String, String> headers, HttpClient.Version version) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream");
        headers.forEach(request::header);
        try {
            HttpResponse<Stream<String>> response = HttpClient.newBuilder().version(version).build().send(request.build(),
                    HttpResponse.BodyHandlers.ofLines());
            return new SseClient(response);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static SseClient open(URI uri) {
        return open(uri, Map.of());
    }

    public int status() {
        return response.statusCode();
    }

    public HttpClient.Version version() {
        return response.version();
    }

    public String contentType() {
        return response.headers().firstValue("Content-Type").orElse("");
    }

    private void read() {
        String id = null;
        String event = null;
        StringBuilder data = null;
        try (Stream<String> lines = response.body()) {
            for (String line : (Iterable<String>) lines::iterator) {
                if (line.isEmpty()) {
                    if (data != null) {
                        events.add(new Event(id, event == null ? "message" : event, data.toString()));
                    }
                    id = null;
                    event = null;
                    data = null;
                } else if (line.startsWith(":")) {
                    comments.add(line.substring(1).trim());
                } else {
                    int colon = line.indexOf(':');
                    String field = colon < 0 ? line : line.substring(0, colon);
                    String value = colon < 0 ? "" : line.substring(colon + 1);
                    if (value.startsWith(" ")) {
                        value = value.substring(1);
                    }
                    switch (field) {
                        case "id" -> id = value;
                        case "event" -> event = value;
                        case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                        default -> throw new IllegalStateException("unexpected SSE field: " + line);
                    }
                }
            }
        } catch (RuntimeException e) {
            // The stream was closed under the reader: that ends it like the server ending it.
            failure = e;
        } finally {
            ended = true;
        }
    }

    /** The next event, waiting up to the WebSocket client's timeout. */
    public Event next() {
        try {
            Event e = events.poll(WsClient.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (e == null) {
                throw new AssertionError("no SSE event within " + WsClient.TIMEOUT);
            }
            return e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The next event of this type, skipping others. */
    public Event next(String type) {
        while (true) {
            Event e = next();
            if (e.event().equals(type)) {
                return e;
            }
        }
    }

    /** The next event, or null when none arrives within {@code wait}. */
    public Event poll(Duration wait) {
        try {
            return events.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public String nextComment(Duration wait) {
        try {
            return comments.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public boolean ended() {
        return ended;
    }

    /** Why the stream did not end cleanly, once ended; null when the server ended it as a response ends. */
    public RuntimeException failure() {
        return failure;
    }

    @Override
    public void close() {
        response.body().close();
        reader.interrupt();
    }
}
