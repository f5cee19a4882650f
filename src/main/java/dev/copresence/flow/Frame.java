package dev.copresence.flow;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

import dev.copresence.protocol.Codec;

/**
 * One encoded text frame. An event goes to many connections: it is encoded to JSON once, upstream,
 * and here once to the bytes its transport sends, framing included (a WebSocket frame, or an HTTP/1.1
 * chunk of an event stream), so that every socket is handed the same bytes and nothing is encoded per
 * socket.
 */
public final class Frame {
    private static final byte[] CRLF = { '\r', '\n' };

    private final String text;
    /** The UTF-8 text in its framing; for a WebSocket, a final unmasked text frame (RFC 6455 §5.2). */
    private final byte[] wire;
    private final int payloadOffset;
    private final int payloadLength;
    /** The message type, for metrics; computed on first use (a String is safe to publish racily). */
    private String type;
    /** The same event for another transport (an SSE event), made on first use (final fields: safe to publish racily). */
    private Frame derived;
    /** A read-only off-heap copy of {@link #wire}, for frames that many sockets write ({@link #shared()}). */
    private volatile ByteBuffer offHeap;

    /** A WebSocket text frame. */
    public Frame(String text) {
        this.text = text;
        byte[] utf8 = utf8(text);
        int n = utf8.length;
        payloadOffset = n < 126 ? 2 : n <= 0xFFFF ? 4 : 10;
        payloadLength = n;
        wire = new byte[payloadOffset + n];
        wire[0] = (byte) 0x81; // FIN, opcode 1 (text)
        if (n < 126) {
            wire[1] = (byte) n;
        } else if (n <= 0xFFFF) {
            wire[1] = 126;
            wire[2] = (byte) (n >>> 8);
            wire[3] = (byte) n;
        } else {
            wire[1] = 127;
            for (int i = 0; i < 8; i++) {
                wire[2 + i] = (byte) ((long) n >>> (56 - 8 * i));
            }
        }
        System.arraycopy(utf8, 0, wire, payloadOffset, n);
    }

    private Frame(String text, byte[] wire, int payloadOffset, int payloadLength) {
        this.text = text;
        this.wire = wire;
        this.payloadOffset = payloadOffset;
        this.payloadLength = payloadLength;
    }

    /**
     * The text as one HTTP/1.1 chunk (RFC 9112 §7.1: its size in hex, CRLF, the data, CRLF), for a
     * chunked response that writes its frames below the HTTP encoder, one chunk each. Never empty: a
     * chunk of size 0 ends the response.
     */
    public static Frame httpChunk(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("an empty chunk would end the response");
        }
        byte[] utf8 = utf8(text);
        byte[] size = (Integer.toHexString(utf8.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] wire = new byte[size.length + utf8.length + CRLF.length];
        System.arraycopy(size, 0, wire, 0, size.length);
        System.arraycopy(utf8, 0, wire, size.length, utf8.length);
        System.arraycopy(CRLF, 0, wire, size.length + utf8.length, CRLF.length);
        return new Frame(text, wire, size.length, utf8.length);
    }

    /**
     * The JSON text's UTF-8. A lone surrogate, which JSON carries escaped (a string a client cut in the
     * middle of an emoji), has no UTF-8 form, and Java writes {@code ?} in its place: it is written
     * escaped again ({@link Codec#escapeLoneSurrogates}). Looked for only when a {@code ?} came out,
     * which the JSON of most events does not hold.
     */
    static byte[] utf8(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        for (byte b : utf8) {
            if (b == '?') {
                String escaped = Codec.escapeLoneSurrogates(text);
                return escaped == text ? utf8 : escaped.getBytes(StandardCharsets.UTF_8);
            }
        }
        return utf8;
    }

    public String text() {
        return text;
    }

    /** The whole frame as its transport sends it, framing and payload; shared, never to be modified. */
    public byte[] wire() {
        return wire;
    }

    /**
     * Makes one read-only off-heap copy of the bytes for every socket to write as it is. A socket's
     * write of heap bytes is copied to direct memory by Netty first, for each socket: that copy was 5 %
     * of a 1,000-member fan-out. Worth it for a frame that goes to many sockets; the copy goes with the
     * frame, when the GC collects it.
     */
    public Frame shared() {
        if (offHeap == null) {
            ByteBuffer copy = ByteBuffer.allocateDirect(wire.length);
            copy.put(wire).flip();
            offHeap = copy.asReadOnlyBuffer();
        }
        return this;
    }

    /** The off-heap copy of {@link #wire()} made by {@link #shared()}, or null; never to be moved or read from. */
    public ByteBuffer offHeap() {
        return offHeap;
    }

    /** Where the UTF-8 text starts in {@link #wire()}. */
    public int payloadOffset() {
        return payloadOffset;
    }

    /** Bytes of the UTF-8 text. */
    public int payloadLength() {
        return payloadLength;
    }

    /** What the outbound bounds count: characters, as the frame was encoded. */
    public int length() {
        return text.length();
    }

    /**
     * A durable event's offset (an event stream's starts with its {@code id:} line); null for any other
     * frame. Read, not kept: asked for only at a close.
     */
    public String offset() {
        if (text.startsWith("id: ")) {
            int end = text.indexOf('\n');
            return end < 0 ? null : text.substring(4, end);
        }
        return Codec.offsetOf(text);
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
