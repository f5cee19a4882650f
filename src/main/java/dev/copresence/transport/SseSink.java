package dev.copresence.transport;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

import dev.copresence.flow.Frame;
import dev.copresence.flow.OutboundQueue;

/**
 * An outbound queue's way to one event stream: what the queue writes in one drain becomes one HTTP
 * chunk, and the response's write queue (Vert.x's bound on what the socket holds) says when to stop.
 */
final class SseSink implements OutboundQueue.Sink {
    private final HttpServerResponse response;
    private final Context context;
    private Buffer chunk;

    SseSink(HttpServerRequest request) {
        this.response = request.response();
        this.context = Vertx.currentContext();
    }

    @Override
    public void execute(Runnable task) {
        context.runOnContext(v -> task.run());
    }

    @Override
    public boolean open() {
        return !response.ended() && !response.closed();
    }

    @Override
    public boolean writable() {
        return !response.writeQueueFull();
    }

    @Override
    public void write(Frame frame) {
        if (chunk == null) {
            chunk = Buffer.buffer(frame.payloadLength());
        }
        chunk.appendBytes(frame.webSocketFrame(), frame.payloadOffset(), frame.payloadLength());
    }

    @Override
    public void flush() {
        if (chunk != null) {
            Buffer c = chunk;
            chunk = null;
            response.write(c);
        }
    }

    @Override
    public void whenFlushed(Runnable then) {
        if (!response.writeQueueFull()) {
            execute(then);
            return;
        }
        response.drainHandler(v -> {
            response.drainHandler(null);
            then.run();
        });
    }

    /** The stream ends: for an EventSource that is a reconnect, with Last-Event-ID, not an error. */
    @Override
    public void close(int code, String reason) {
        if (open()) {
            response.end();
        }
    }
}
