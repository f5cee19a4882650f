package dev.copresence.flow;

import java.nio.charset.StandardCharsets;
import java.util.function.Function;

import dev.copresence.protocol.Codec;

/**
 * One encoded text frame. An event goes to many connections: it is encoded to JSON once, upstream,
 * and here once to the bytes a WebSocket sends, header included, so that every socket is handed the
 * same bytes and nothing is encoded per socket.
 */
public final class Frame {
    private final String text;
    /** A final, unmasked WebSocket text frame (RFC 6455 §5.2: server to client) of the UTF-8 text. */
    private final byte[] webSocket;
    private final int payloadOffset;
    /** The message type, for metrics; computed on first use (a String is safe to publish racily). */
    private String type;
    /** The same event for another transport (an SSE event), made on first use (final fields: safe to publish racily). */
    private Frame derived;

    public Frame(String text) {
        this.text = text;
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        int n = utf8.length;
        payloadOffset = n < 126 ? 2 : n <= 0xFFFF ? 4 : 10;
        webSocket = new byte[payloadOffset + n];
        webSocket[0] = (byte) 0x81; // FIN, opcode 1 (text)
        if (n < 126) {
            webSocket[1] = (byte) n;
        } else if (n <= 0xFFFF) {
            webSocket[1] = 126;
            webSocket[2] = (byte) (n >>> 8);
            webSocket[3] = (byte) n;
        } else {
            webSocket[1] = 127;
            for (int i = 0; i < 8; i++) {
                webSocket[2 + i] = (byte) ((long) n >>> (56 - 8 * i));
            }
        }
        System.arraycopy(utf8, 0, webSocket, payloadOffset, n);
    }

    public String text() {
        return text;
    }

    /** The whole WebSocket frame, header and payload; shared, never to be modified. */
    public byte[] webSocketFrame() {
        return webSocket;
    }

    /** Where the UTF-8 text starts in {@link #webSocketFrame()}; it runs to the end. */
    public int payloadOffset() {
        return payloadOffset;
    }

    /** Bytes of the UTF-8 text. */
    public int payloadLength() {
        return webSocket.length - payloadOffset;
    }

    /** What the outbound bounds count: characters, as the frame was encoded. */
    public int length() {
        return text.length();
    }

    /** The message's {@code type} ({@link Codec#type}), read once however many sockets it goes to. */
    public String type() {
        String t = type;
        if (t == null) {
            t = Codec.type(text);
            type = t;
        }
        return t;
    }

    /**
     * The same event encoded for another transport, made once however many streams need it. A frame
     * has one such encoding (Server-Sent Events); every caller must ask for the same one.
     */
    public Frame derived(Function<Frame, Frame> encoding) {
        Frame d = derived;
        if (d == null) {
            d = encoding.apply(this);
            derived = d;
        }
        return d;
    }

    @Override
    public String toString() {
        return text;
    }
}
