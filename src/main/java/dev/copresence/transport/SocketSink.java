package dev.copresence.transport;

import java.nio.ByteBuffer;
import java.util.Map;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.quarkus.websockets.next.WebSocketConnection;
import io.vertx.core.net.impl.ConnectionBase;

import dev.copresence.flow.Frame;
import dev.copresence.flow.OutboundQueue;

/**
 * An outbound queue's way to one WebSocket: straight to its Netty channel, below websockets-next.
 * {@code sendText} would encode the text again for every socket, complete a future per frame through
 * Mutiny, and flush each frame with its own system call; a fan-out to thousands of sockets is
 * dominated by exactly that. Here each frame is already a whole WebSocket frame, the same bytes for
 * every socket, written below the channel's frame encoder (and its idle handler, which would make a
 * promise per write): nothing is encoded or allocated per socket but the buffer's wrapper. Writes
 * are not flushed until the queue has written all it holds, and the channel's own bounded buffer
 * (its write-buffer water marks) says when to stop.
 */
final class SocketSink implements OutboundQueue.Sink {
    /** A final ping frame (opcode 9) without payload: servers do not mask (RFC 6455 §5.5.2). */
    private static final byte[] PING = { (byte) 0x89, 0 };

    private final WebSocketConnection connection;
    /** Where frames enter the pipeline: below the frame encoder, above TLS where there is TLS. */
    private final ChannelHandlerContext context;
    private final Channel channel;
    /**
     * The channel's transport, where the pipeline's head hands writes: used when no handler below the
     * encoder writes (no TLS), so a frame skips the walk down the pipeline's contexts; null otherwise.
     */
    private final Channel.Unsafe transport;
    /** Writes report nothing back: a failure closes the channel, and the connection's close handler runs. */
    private final ChannelPromise noCompletion;
    private final SocketMetrics metrics;
    /** When the last ping went out; read and written by the liveness tick only. */
    private long lastPingNanos = System.nanoTime();

    SocketSink(WebSocketConnection connection, ConnectionBase tcp, SocketMetrics metrics, int socketBuffer) {
        this.connection = connection;
        this.channel = tcp.channelHandlerContext().channel();
        ChannelHandlerContext encoder = channel.pipeline().context(WebSocketFrameEncoder.class);
        // without one (not seen on Vert.x 4.5) the frame's bytes pass every handler: an encoder lets bytes through
        this.context = encoder != null ? encoder : tcp.channelHandlerContext();
        this.transport = nothingWritesBelow(channel.pipeline(), context) ? channel.unsafe() : null;
        this.noCompletion = new VoidChannelPromise(channel, false);
        this.metrics = metrics;
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(socketBuffer / 2, socketBuffer));
    }

    /**
     * Always a task, also on the socket's own thread: a fan-out then hands every socket its frame
     * first and each socket writes what it has been handed by the time its task runs, so events that
     * arrive together go out in one system call per socket. Writing at once on the same thread saved
     * little at moderate rates and, under a cursor storm, cost a system call per frame: p99 rose from
     * 9 to 59 ms at 796,000 deliveries/s (docs/benchmarks.md).
     */
    @Override
    public void execute(Runnable task) {
        channel.eventLoop().execute(task);
    }

    /**
     * Every close the server asks for goes through the queue (which then writes nothing more), and a
     * close Netty or Vert.x make on their own (a protocol error, a client's close frame) ends the TCP
     * connection right after its frame: the channel's state is enough, and costs no lock per delivery.
     */
    @Override
    public boolean open() {
        return channel.isActive();
    }

    @Override
    public boolean writable() {
        return channel.isWritable();
    }

    @Override
    public void write(Frame frame) {
        metrics.sent(frame);
        if (transport != null) {
            transport.write(bytes(frame), noCompletion);
        } else {
            context.write(bytes(frame), noCompletion);
        }
    }

    /**
     * True when every handler between the pipeline's head and {@code from} only reads (Vert.x's
     * decoders, the idle handler above them), so that writing to the transport is what writing from
     * {@code from} would do. A TLS handler, or any other that writes, keeps frames in the pipeline.
     */
    static boolean nothingWritesBelow(ChannelPipeline pipeline, ChannelHandlerContext from) {
        for (Map.Entry<String, ChannelHandler> entry : pipeline) { // head to tail
            if (entry.getValue() == from.handler()) {
                return true;
            }
            if (entry.getValue() instanceof ChannelOutboundHandler) {
                return false;
            }
        }
        return false;
    }

    /** The frame's bytes for one socket's write: a view of its shared off-heap copy where it has one. */
    static ByteBuf bytes(Frame frame) {
        ByteBuffer offHeap = frame.offHeap();
        // wrapping slices the buffer: its own position, shared by every socket, never moves
        return offHeap != null ? Unpooled.wrappedBuffer(offHeap) : Unpooled.wrappedBuffer(frame.wire());
    }

    @Override
    public void flush() {
        if (transport != null) {
            transport.flush();
        } else {
            context.flush();
        }
    }

    @Override
    public void whenFlushed(Runnable then) {
        // An empty buffer completes after every earlier write.
        context.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(done -> then.run());
    }

    /**
     * Pings the client, on the socket's thread, when {@code dueAfterNanos} have passed since the last ping.
     * websockets-next's auto-ping would give every connection a timer of its own, firing on its own
     * schedule: a wake-up per ping, and a timer's objects per idle connection. Here the liveness tick
     * pings every socket that is due at once, a period rounded to the tick. A socket that is full (its
     * client is not reading) or closing gets no ping: nothing may follow a close frame, and a ping
     * behind a full buffer proves nothing sooner.
     */
    void pingIfDue(long nowNanos, long dueAfterNanos) {
        if (nowNanos - lastPingNanos < dueAfterNanos) {
            return;
        }
        lastPingNanos = nowNanos;
        channel.eventLoop().execute(this::ping);
    }

    private void ping() {
        if (channel.isActive() && channel.isWritable() && connection.isOpen()) {
            context.writeAndFlush(Unpooled.wrappedBuffer(PING), noCompletion);
        }
    }

    WebSocketConnection connection() {
        return connection;
    }

    @Override
    public void close(int code, String reason) {
        Connections.close(connection, code, reason);
    }
}
