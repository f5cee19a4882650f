package dev.copresence.transport;

import java.util.List;
import java.util.function.Consumer;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

import dev.copresence.config.CopresenceConfig;
import dev.copresence.flow.Backlog;
import dev.copresence.flow.Frame;
import dev.copresence.flow.OutboundQueue;
import dev.copresence.security.HttpGuard;

/**
 * One open Server-Sent Events response, as both event streams ({@link SseDocuments}, {@link SseStatus})
 * serve it: written on Vert.x directly through the WebSocket's bounded {@link OutboundQueue} and an
 * {@link SseSink}, with a heartbeat comment when it has been quiet ({@link SseStreams} checks). A
 * reader that falls more than {@code copresence.sse.buffer} events or {@code limits.send-buffer}
 * characters behind has its stream ended: for an {@code EventSource} that is a reconnect, not an error.
 */
final class SseStream {
    private static final Frame HEARTBEAT = Frame.httpChunk(": heartbeat\n\n");

    private final HttpServerResponse response;
    private final SseSink sink;
    private final OutboundQueue out;
    /** {@link SseStreams}' own undo: no more heartbeat checks. */
    private final Consumer<SseStream> whenEnded;
    private Runnable onEnd = () -> { };
    /** When its token expires (epoch milliseconds): the stream ends then, as a WebSocket is closed with 4401. */
    private final long expiresAt;

    /** Opened by {@link SseStreams#open}, on the request's event loop; nothing is written before {@link #start} or an event. */
    SseStream(HttpServerRequest request, CopresenceConfig config, long expiresAt, Consumer<SseStream> whenEnded) {
        this.sink = new SseSink(request);
        this.expiresAt = expiresAt;
        this.whenEnded = whenEnded;
        this.response = request.response();
        this.out = new OutboundQueue(sink, OutboundQueue.Listener.NONE, config.limits().sendBuffer(), config.sse().buffer());
        // the reader went away, or the server ended the stream (a slow reader) on a connection kept alive
        response.closeHandler(v -> ended());
        response.endHandler(v -> ended());
        response.setChunked(true)
                .putHeader("Content-Type", "text/event-stream")
                .putHeader("Cache-Control", "no-cache")
                .putHeader("X-Accel-Buffering", "no");
    }

    /** What to undo (stop observing) when the stream ends, however it ends; set before anything is offered. */
    void onEnd(Runnable onEnd) {
        this.onEnd = onEnd;
    }

    /**
     * From any thread, at each check: ends the stream once its token has expired (its reader's
     * {@code EventSource} reconnects with that token and is refused with 401), else a heartbeat
     * comment when nothing was written for {@code quietNanos}.
     */
    void check(long nowMillis, long quietNanos) {
        if (nowMillis >= expiresAt) {
            out.close(4401, "token expired");
        } else if (sink.quietFor(quietNanos)) {
            out.offer(HEARTBEAT, null);
        }
    }

    /**
     * Starts the response now, with a heartbeat, for a stream that opens with no event: a reader whose
     * {@code Last-Event-ID} is up to date is subscribed, and its EventSource opens at once rather than
     * at the next event or heartbeat (a head goes out with the first chunk).
     */
    void start() {
        out.offer(HEARTBEAT, null);
    }

    /** Queues an event, from any thread; {@link Frame#httpChunk} makes its frame. */
    void offer(Frame event) {
        out.offer(event, null);
    }

    /**
     * Queues what the stream opens with (the members, or a replay): as large as the document or its
     * history, which may be more than the send buffer, so it is written at the reader's pace.
     */
    void open(String doc, List<Frame> events) {
        out.offerBacklog(Backlog.ofFrames(doc, events));
    }

    /** Ends the stream as the node shuts down, from any thread. */
    void endForShutdown() {
        out.close(SseSink.GOING_AWAY, "server going away");
    }

    /** Ends the stream of a reader that fell behind, from any thread. */
    void endSlow() {
        out.close(OutboundQueue.SLOW_CONSUMER, "slow reader");
    }

    /** The stream could not open (its registry failed): ended, with the error if nothing was written yet. */
    void fail(HttpGuard.Refusal refusal) {
        ended();
        refuse(response, refusal);
    }

    private void ended() {
        whenEnded.accept(this);
        onEnd.run();
        out.discard();
    }

    /** A request refused before (or, after the head, instead of) its stream: the protocol's error object. */
    static void refuse(HttpServerResponse response, HttpGuard.Refusal refusal) {
        if (response.headWritten()) {
            if (!response.ended()) {
                response.end();
            }
            return;
        }
        response.setStatusCode(refusal.status()).putHeader("Content-Type", "application/json").end(refusal.json());
    }

    /**
     * One SSE event, as the HTTP chunk a stream writes ({@link SseSink}): durable events carry their
     * offset as {@code id}. JSON has no raw newline: one data line.
     */
    static Frame event(String type, String offset, String json) {
        StringBuilder sse = new StringBuilder(json.length() + type.length() + 40);
        if (offset != null) {
            sse.append("id: ").append(offset).append('\n');
        }
        return Frame.httpChunk(sse.append("event: ").append(type).append("\ndata: ").append(json).append("\n\n").toString());
    }
}
