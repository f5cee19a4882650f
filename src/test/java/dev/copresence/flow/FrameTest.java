package dev.copresence.flow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;

/** A frame's bytes are exactly what Netty's own encoders send for the same text, at every length form. */
class FrameTest {

    @ParameterizedTest
    @ValueSource(ints = { 0, 1, 125, 126, 127, 1000, 65535, 65536, 70000 })
    void webSocketFrameIsWhatNettyWouldEncode(int length) {
        String text = "é".repeat(length / 2) + "x".repeat(length % 2); // two-byte UTF-8 characters too
        Frame frame = new Frame(text);

        EmbeddedChannel channel = new EmbeddedChannel(new WebSocket13FrameEncoder(false));
        channel.writeOutbound(new TextWebSocketFrame(text));

        assertArrayEquals(written(channel), frame.wire());
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        assertEquals(utf8.length, frame.payloadLength());
        assertArrayEquals(utf8, Arrays.copyOfRange(frame.wire(), frame.payloadOffset(), frame.wire().length));
        assertEquals(text.length(), frame.length(), "the queue's bounds count characters, as before");
    }

    @ParameterizedTest
    @ValueSource(ints = { 1, 15, 16, 255, 256, 4095, 4096, 70000 })
    void httpChunkIsWhatNettyWouldEncodeInAChunkedResponse(int length) {
        String text = "é".repeat(length / 2) + "x".repeat(length % 2);
        Frame frame = Frame.httpChunk(text);

        EmbeddedChannel channel = new EmbeddedChannel(new HttpResponseEncoder());
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        channel.writeOutbound(head);
        written(channel);
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        channel.writeOutbound(new DefaultHttpContent(Unpooled.wrappedBuffer(utf8)));
        byte[] expected = written(channel);

        assertArrayEquals(expected, frame.wire());
        assertEquals(utf8.length, frame.payloadLength());
        assertArrayEquals(utf8, Arrays.copyOfRange(frame.wire(), frame.payloadOffset(), frame.payloadOffset() + frame.payloadLength()));
        assertEquals(text.length(), frame.length());
    }

    @Test
    void aSharedFrameHasOneReadOnlyOffHeapCopyOfItsBytes() {
        Frame frame = new Frame("{\"type\":\"broadcast\",\"data\":\"é\"}");
        assertNull(frame.offHeap(), "a frame for one socket makes no copy");
        ByteBuffer copy = frame.shared().offHeap();
        assertTrue(copy.isDirect() && copy.isReadOnly());
        byte[] bytes = new byte[copy.remaining()];
        copy.duplicate().get(bytes);
        assertArrayEquals(frame.wire(), bytes);
        assertSame(copy, frame.shared().offHeap(), "made once");
    }

    @Test
    void anEmptyHttpChunkIsRefusedBecauseItWouldEndTheResponse() {
        assertThrows(IllegalArgumentException.class, () -> Frame.httpChunk(""));
    }

    private static byte[] written(EmbeddedChannel channel) {
        ByteBuf encoded = Unpooled.buffer();
        for (ByteBuf part; (part = channel.readOutbound()) != null; part.release()) {
            encoded.writeBytes(part);
        }
        byte[] bytes = new byte[encoded.readableBytes()];
        encoded.readBytes(bytes);
        return bytes;
    }

    /** JSON can carry a lone surrogate (escaped); it has no UTF-8 form, so it goes out escaped again, not as '?'. */
    @Test
    void aLoneSurrogateGoesOutEscapedAsTheClientSentIt() {
        String text = "{\"data\":\"ab\ud83d\",\"end\":\"\ude00x\",\"pair\":\"\ud83d\ude00?\"}";
        Frame frame = new Frame(text);
        String sent = new String(frame.wire(), frame.payloadOffset(), frame.payloadLength(), StandardCharsets.UTF_8);
        assertEquals("{\"data\":\"ab\\ud83d\",\"end\":\"\\ude00x\",\"pair\":\"\ud83d\ude00?\"}", sent);
        assertEquals(frame.payloadLength() + frame.payloadOffset(), frame.wire().length);
        Frame chunk = Frame.httpChunk(text);
        assertEquals(sent, new String(chunk.wire(), chunk.payloadOffset(), chunk.payloadLength(), StandardCharsets.UTF_8));
    }

    @Test
    void aQuestionMarkAloneIsLeftAsItIs() {
        Frame frame = new Frame("{\"q\":\"why?\"}");
        assertEquals("{\"q\":\"why?\"}", new String(frame.wire(), frame.payloadOffset(), frame.payloadLength(), StandardCharsets.UTF_8));
    }
}
