package dev.copresence.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpContentCompressor;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.timeout.IdleStateHandler;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;

import dev.copresence.flow.Frame;
import dev.copresence.flow.OutboundQueue;

/**
 * An outbound queue's way to one event stream. On HTTP/1.1 each frame is already a whole HTTP chunk
 * ({@link Frame#httpChunk}), the same bytes for every stream, written below the channel's HTTP encoder
 * and flushed once per drain, as a WebSocket's frames are ({@link SocketSink}): a fan-out to thousands
 * of streams through Vert.x's {@code response.write} spent a fifth of its CPU above the socket (a
 * promise, a lock, a metrics record and the chunk's size encoded per write, and the idle and WebSocket
 * extension handlers every HTTP connection has). Vert.x still writes the head and the end of the
 * response, and the encoder, which sees neither our chunks nor their sizes, stays in its chunked state;
 * the connection's idle handler, which sees them no more, is told of each flush, or the HTTP idle
 * timeout would end a stream that is being written.
 * Where the bytes would not be the response's own (HTTP/2 frames its data itself, HTTP/1.0 is not
 * chunked, a compressor would compress the response), what one drain writes is one
 * {@code response.write} instead.
 */
final class SseSink implements OutboundQueue.Sink {
    /** The close code of a stream ended by the node's shutdown ({@link SseStream#endForShutdown}). */
    static final int GOING_AWAY = 1001;
    private final HttpServerResponse response;
    private final HttpConnection connection;
    private final Context context;
    /** Where chunks enter the channel, below the HTTP encoder; null: through {@code response.write}. */
    private final ChannelWriter below;
    /** The connection's idle timeout (above the encoder, so it does not see our chunks); null without one. */
    private final IdleStateHandler idle;
    /** What the drain is gathering for {@code response.write}, when not writing below the encoder. */
    private Buffer chunk;
    /**
     * Set when this sink ends the response, before it asks Vert.x to: a slow reader is ended from the
     * thread that offered too much, and a drain that starts after must not write behind the last chunk.
     */
    private volatile boolean ended;
    /** Whether this sink had Vert.x write the head (Vert.x's own flag is read under the connection's lock). */
    private boolean headWritten;
    /** When the stream was last written to: written by its drains, read by the heartbeat check on another thread. */
    private volatile long lastFlushNanos = System.nanoTime();
    /**
     * The request's headers, until the response's head is out: nothing reads them after it, and a
     * stream lasts as long as its reader wants, with whatever headers (up to 20 KiB) it sent.
     */
    private MultiMap requestHeaders;

    SseSink(HttpServerRequest request) {
        this.response = request.response();
        this.connection = request.connection();
        this.requestHeaders = request.headers();
        this.context = Vertx.currentContext();
        ChannelHandlerContext encoder = belowEncoder(request);
        this.below = encoder == null ? null : new ChannelWriter(encoder);
        this.idle = encoder == null ? null : encoder.pipeline().get(IdleStateHandler.class);
    }

    private static ChannelHandlerContext belowEncoder(HttpServerRequest request) {
        if (request.version() != HttpVersion.HTTP_1_1 || !(request.connection() instanceof ConnectionBase tcp)) {
            return null;
        }
        ChannelPipeline pipeline = tcp.channelHandlerContext().pipeline();
        // With quarkus.http.enable-compression every response is marked identity, and a plain Vert.x
        // route such as ours is never unmarked: the compressor then passes the response through, and
        // may be passed by. A response it would compress must go through it.
        boolean passedThrough = pipeline.get(HttpContentCompressor.class) == null
                || "identity".equalsIgnoreCase(request.response().headers().get(HttpHeaders.CONTENT_ENCODING));
        return passedThrough ? pipeline.context(HttpResponseEncoder.class) : null;
    }

    /**
     * Below the encoder a drain touches only the channel (and Vert.x's {@code writeHead}, which writes
     * at once on the channel's own thread): it runs as a plain task of the event loop, as a WebSocket's
     * does, without the Vert.x context's dispatch around it (a lambda, the thread's context swapped in
     * and out, a timestamp for the blocked-thread checker), which a fan-out paid once per stream.
     */
    @Override
    public void execute(Runnable task) {
        if (below != null) {
            below.channel().eventLoop().execute(task);
        } else {
            context.runOnContext(v -> task.run());
        }
    }

    /**
     * Below the encoder, the channel's state and our own end are enough: Vert.x's {@code ended()} and
     * {@code closed()} take the connection's lock, at every drain of every stream. A response ended
     * elsewhere (a refusal) has had its queue discarded first, and drains nothing.
     */
    @Override
    public boolean open() {
        return below != null ? !ended && below.channel().isActive() : !response.ended() && !response.closed();
    }

    @Override
    public boolean writable() {
        return below != null ? below.channel().isWritable() : !response.writeQueueFull();
    }

    /** The stream's frames must be made by {@link Frame#httpChunk}: below the encoder they are written as they are. */
    @Override
    public void write(Frame frame) {
        if (below != null) {
            if (!headWritten) {
                headWritten = true;
                response.writeHead(); // on this event loop: in the channel before the first chunk
                forgetRequestHeaders();
            }
            below.write(frame);
            return;
        }
        if (chunk == null) {
            chunk = Buffer.buffer(frame.payloadLength());
        }
        chunk.appendBytes(frame.wire(), frame.payloadOffset(), frame.payloadLength());
    }

    private void forgetRequestHeaders() {
        if (requestHeaders != null) {
            requestHeaders.clear();
            requestHeaders = null;
        }
    }

    @Override
    public void flush() {
        lastFlushNanos = System.nanoTime();
        if (below != null) {
            below.flush();
            if (idle != null) {
                idle.resetWriteTimeout();
            }
        } else if (chunk != null) {
            Buffer c = chunk;
            chunk = null;
            response.write(c);
            forgetRequestHeaders();
        }
    }

    /** Whether nothing was written for {@code nanos}: a stream that carries events needs no heartbeat. */
    boolean quietFor(long nanos) {
        return System.nanoTime() - lastFlushNanos >= nanos;
    }

    @Override
    public void whenFlushed(Runnable then) {
        if (below != null) {
            below.whenFlushed(then);
            return;
        }
        if (!response.writeQueueFull()) {
            execute(then);
            return;
        }
        response.drainHandler(v -> {
            response.drainHandler(null);
            then.run();
        });
    }

    /**
     * The stream ends: for an EventSource that is a reconnect, with Last-Event-ID, not an error. At a
     * shutdown (1001) its connection closes after it, so that the reconnect goes to another node rather
     * than, kept alive, to this one, which then refuses it.
     */
    @Override
    public void close(int code, String reason) {
        if (open()) {
            ended = true;
            Future<Void> end = response.end();
            if (code == GOING_AWAY) {
                end.onComplete(done -> connection.close());
            }
        }
    }
}
