package dev.copresence.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.WebSocketConnection;
import io.vertx.core.net.impl.ConnectionBase;

import dev.copresence.flow.Frame;
import dev.copresence.flow.OutboundQueue;

/**
 * An outbound queue's way to one WebSocket: straight to its Netty channel, below websockets-next.
 * {@code sendText} would encode the text again for every socket, complete a future per frame through
 * Mutiny, and flush each frame with its own system call; a fan-out to thousands of sockets is
 * dominated by exactly that. Here the frame's bytes are shared, writes are not flushed until the
 * queue has written all it holds, and the channel's own bounded buffer (its write-buffer water
 * marks) says when to stop.
 */
final class SocketSink implements OutboundQueue.Sink {
    private final WebSocketConnection connection;
    private final ChannelHandlerContext context;
    private final Channel channel;
    /** Writes report nothing back: a failure closes the channel, and the connection's close handler runs. */
    private final ChannelPromise noCompletion;
    private final SocketMetrics metrics;

    SocketSink(WebSocketConnection connection, ConnectionBase tcp, SocketMetrics metrics, int socketBuffer) {
        this.connection = connection;
        this.context = tcp.channelHandlerContext();
        this.channel = context.channel();
        this.noCompletion = new VoidChannelPromise(channel, false);
        this.metrics = metrics;
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(socketBuffer / 2, socketBuffer));
    }

    @Override
    public void execute(Runnable task) {
        channel.eventLoop().execute(task);
    }

    @Override
    public boolean open() {
        return channel.isActive() && !connection.isClosed();
    }

    @Override
    public boolean writable() {
        return channel.isWritable();
    }

    @Override
    public void write(Frame frame) {
        metrics.sent(frame);
        context.write(new TextWebSocketFrame(true, 0, Unpooled.wrappedBuffer(frame.utf8())), noCompletion);
    }

    @Override
    public void flush() {
        context.flush();
    }

    @Override
    public void whenFlushed(Runnable then) {
        // An empty buffer passes the frame encoders untouched; its write completes after every earlier one.
        context.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(done -> then.run());
    }

    @Override
    public void close(int code, String reason) {
        if (connection.isOpen()) {
            connection.close(new CloseReason(code, reason)).subscribe().with(ok -> {
            }, failure -> {
            });
        }
    }
}
