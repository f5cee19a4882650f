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

import dev.copresence.flow.Frame;

/**
 * Where a sink's ready-made frames (WebSocket frames, HTTP chunks) enter a channel: below the encoder
 * that would otherwise make them, with no promise per write. Where nothing below that encoder writes
 * (no TLS: Vert.x leaves only decoders there), they go straight to the channel's transport, where the
 * pipeline's head would hand them, and skip the walk down the pipeline's contexts on every write and
 * flush. On the channel's event loop only.
 */
final class ChannelWriter {
    /** The context just above where frames enter: the encoder's. */
    private final ChannelHandlerContext context;
    /** The channel's transport when nothing below {@link #context} writes; null otherwise. */
    private final Channel.Unsafe transport;

    ChannelWriter(ChannelHandlerContext below) {
        this.context = below;
        this.transport = nothingWritesBelow(below.pipeline(), below) ? below.channel().unsafe() : null;
    }

    Channel channel() {
        return context.channel();
    }

    /** Writes a frame's bytes, sent at the next {@link #flush}. */
    void write(Frame frame) {
        if (transport != null) {
            transport.write(bytes(frame), noCompletion());
        } else {
            context.write(bytes(frame), noCompletion());
        }
    }

    /**
     * The channel's own promise that reports nothing back, not even to the pipeline: a failed write
     * closes the channel, and the connection's close handler runs. One per channel, made by Netty
     * with it: a promise of the writer's own would be another object per connection.
     */
    private ChannelPromise noCompletion() {
        return context.channel().unsafe().voidPromise();
    }

    void flush() {
        if (transport != null) {
            transport.flush();
        } else {
            context.flush();
        }
    }

    /** Writes and flushes bytes of the writer's own (a ping): rare, so through the pipeline. */
    void writeAndFlush(ByteBuf bytes) {
        context.writeAndFlush(bytes, noCompletion());
    }

    /** Runs {@code then} once what was written so far has left, or failed. */
    void whenFlushed(Runnable then) {
        // An empty buffer completes after every earlier write.
        context.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(done -> then.run());
    }

    /**
     * True when every handler between the pipeline's head and {@code from} only reads (Vert.x's
     * decoders; its idle handler, where there is one, sits above the encoder), so that writing to the
     * transport is what writing from {@code from} would do. A TLS handler, or any other that writes,
     * keeps frames in the pipeline.
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
    private static ByteBuf bytes(Frame frame) {
        ByteBuffer offHeap = frame.offHeap();
        // wrapping slices the buffer: its own position, shared by every socket, never moves
        return offHeap != null ? Unpooled.wrappedBuffer(offHeap) : Unpooled.wrappedBuffer(frame.wire());
    }
}
