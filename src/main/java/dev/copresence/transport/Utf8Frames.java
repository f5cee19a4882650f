package dev.copresence.transport;

import java.nio.charset.StandardCharsets;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ByteProcessor;

/**
 * Checks that each text message of one WebSocket is UTF-8 (RFC 6455 §8.1), on its bytes, in the
 * channel's pipeline above the frame decoder. Vert.x decodes text with U+FFFD in place of bad bytes,
 * and nothing below it checks them: after that, a message with bad bytes and one with a real U+FFFD
 * (which browsers send for a lone surrogate) look the same.
 *
 * <p>A bad message is handed on whole, with {@link #INVALID} after its last fragment's bytes, so
 * that its text ends with it and its size counts against the message limit as before: the
 * connection closes with 1007 when the message's turn comes, after the messages before it, as the
 * others are processed. No valid JSON text ends with the mark (raw NUL is not JSON whitespace). A
 * character may be split across fragments: the decoder's state is carried from one to the next.
 * The check is added when the socket opens; a frame decoded before that (RFC 6455 lets a client
 * send none before the handshake's answer) is not checked, and its bad bytes are read as U+FFFD.
 * The mark itself counts against the message limit: a bad message within its length of the limit
 * closes with 1009 instead of 1007.
 *
 * <p>It also answers what the decoder below refuses outright (a frame over the message limit, which
 * it refuses from its header, unread; a frame that breaks RFC 6455) with a close frame of the
 * decoder's code, 1009 or 1002: Vert.x would end the TCP connection without one, and a client that
 * sees 1006 takes it for the network and sends the same message again on its next connection.
 */
final class Utf8Frames extends ChannelInboundHandlerAdapter implements ByteProcessor {
    /** What the text of a message with bad bytes ends with once handed on. */
    static final String INVALID = "\u0000not UTF-8\u0000";
    private static final byte[] INVALID_BYTES = INVALID.getBytes(StandardCharsets.UTF_8);
    /** The name of this handler in a pipeline. */
    static final String NAME = "copresence-utf8";

    /** Decoding: 0 between characters, else the continuation bytes left in bits 16+, and the bounds of the next byte. */
    private int state;
    /** In a text message whose last fragment has not come. */
    private boolean inText;
    /** The current text message was found bad: its later bytes are not checked, and its last fragment is marked. */
    private boolean bad;
    /** The decoder refused a frame: the close is on its way, and the decoder drops whatever follows. */
    private boolean refused;
    /** The socket above, which ends the connection when the decoder refuses a frame; null for the check alone (tests). */
    private final SocketSink socket;

    Utf8Frames(SocketSink socket) {
        this.socket = socket;
    }

    /** The check alone, with no socket above it. */
    Utf8Frames() {
        this(null);
    }

    static boolean markedInvalid(String text) {
        return text.endsWith(INVALID);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof TextWebSocketFrame text) {
            state = 0;
            bad = false;
            inText = true;
            ctx.fireChannelRead(check(text));
        } else if (msg instanceof ContinuationWebSocketFrame more && inText) {
            ctx.fireChannelRead(check(more));
        } else {
            ctx.fireChannelRead(msg); // binary and control frames, and a binary message's continuations
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof CorruptedWebSocketFrameException corrupt) || socket == null) {
            ctx.fireExceptionCaught(cause);
            return;
        }
        if (refused) {
            return;
        }
        refused = true;
        int code = corrupt.closeStatus().code();
        String reason = code == 1009 ? "message over the size limit" : "protocol error";
        socket.refuse(ctx, code, reason);
    }

    private WebSocketFrame check(WebSocketFrame frame) {
        boolean last = frame.isFinalFragment();
        if (!bad) {
            bad = frame.content().forEachByte(this) >= 0 || last && state != 0;
        }
        if (!last) {
            return frame;
        }
        inText = false;
        if (!bad) {
            return frame;
        }
        // the frame's content becomes a part of the new one, which releases it in turn
        return frame.replace(Unpooled.wrappedBuffer(frame.content(), Unpooled.wrappedBuffer(INVALID_BYTES)));
    }

    /**
     * One byte of UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF. Answers
     * false, which stops the scan, at a byte that cannot come where it does.
     */
    @Override
    public boolean process(byte value) {
        int b = value & 0xFF;
        if (state == 0) {
            if (b < 0x80) {
                return true;
            }
            state = lead(b);
            return state != 0;
        }
        if (b < ((state >> 8) & 0xFF) || b > (state & 0xFF)) {
            state = 0;
            return false;
        }
        int left = (state >>> 16) - 1;
        state = left == 0 ? 0 : expect(left, 0x80, 0xBF);
        return true;
    }

    /** The state after a lead byte, or 0 for a byte that cannot lead. */
    private static int lead(int b) {
        if (b >= 0xC2 && b <= 0xDF) {
            return expect(1, 0x80, 0xBF);
        }
        if (b == 0xE0) {
            return expect(2, 0xA0, 0xBF); // not overlong
        }
        if (b == 0xED) {
            return expect(2, 0x80, 0x9F); // not a surrogate
        }
        if (b >= 0xE1 && b <= 0xEF) {
            return expect(2, 0x80, 0xBF);
        }
        if (b == 0xF0) {
            return expect(3, 0x90, 0xBF); // not overlong
        }
        if (b >= 0xF1 && b <= 0xF3) {
            return expect(3, 0x80, 0xBF);
        }
        if (b == 0xF4) {
            return expect(3, 0x80, 0x8F); // not past U+10FFFF
        }
        return 0;
    }

    private static int expect(int left, int lowest, int highest) {
        return left << 16 | lowest << 8 | highest;
    }
}
