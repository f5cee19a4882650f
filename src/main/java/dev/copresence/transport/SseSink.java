package dev.copresence.transport;

import io.netty.channel.EventLoop;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.impl.ContextInternal;

import dev.copresence.flow.Frame;
import dev.copresence.flow.OutboundQueue;

/**
 * An outbound queue's way to one event stream: what the queue writes in one drain becomes one HTTP
 * chunk, and the response's write queue (Vert.x's bound on what the socket holds) says when to stop.
 */
final class SseSink implements OutboundQueue.Sink {
    private final HttpServerResponse response;
    private final Context context;
    private final EventLoop loop;
    private Buffer chunk;

    SseSink(HttpServerRequest request) {
        this.response = request.response();
        this.context = Vertx.currentContext();
        this.loop = ((ContextInternal) context).nettyEventLoop();
    }

    /** On the stream's own event loop the task runs at once (a fan-out from there needs no task per stream). */
    @Override
    public void execute(Runnable task) {
        if (onSocketThread()) {
            task.run();
        } else {
            context.runOnContext(v -> task.run());
        }
    }

    @Override
    public boolean onSocketThread() {
        return loop.inEventLoop();
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
