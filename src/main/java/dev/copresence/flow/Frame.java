package dev.copresence.flow;

import java.nio.charset.StandardCharsets;
import java.util.function.Function;

import dev.copresence.protocol.Codec;

/**
 * One encoded text frame. An event goes to many connections: it is encoded to JSON once, upstream,
 * and to UTF-8 once, here, and every socket is handed the same bytes.
 */
public final class Frame {
    private final String text;
    private final byte[] utf8;
    /** The message type, for metrics; computed on first use (a String is safe to publish racily). */
    private String type;
    /** The same event for another transport (an SSE event), made on first use (final fields: safe to publish racily). */
    private Frame derived;

    public Frame(String text) {
        this.text = text;
        this.utf8 = text.getBytes(StandardCharsets.UTF_8);
    }

    public String text() {
        return text;
    }

    /** The frame's UTF-8 bytes; shared, never to be modified. */
    public byte[] utf8() {
        return utf8;
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
