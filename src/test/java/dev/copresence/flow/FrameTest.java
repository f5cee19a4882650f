package dev.copresence.flow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;

/** A frame's bytes are exactly what Netty's own encoder sends for the same text, at every length form. */
class FrameTest {

    @ParameterizedTest
    @ValueSource(ints = { 0, 1, 125, 126, 127, 1000, 65535, 65536, 70000 })
    void webSocketFrameIsWhatNettyWouldEncode(int length) {
        String text = "é".repeat(length / 2) + "x".repeat(length % 2); // two-byte UTF-8 characters too
        Frame frame = new Frame(text);

        EmbeddedChannel channel = new EmbeddedChannel(new WebSocket13FrameEncoder(false));
        channel.writeOutbound(new TextWebSocketFrame(text));
        ByteBuf encoded = Unpooled.buffer();
        for (ByteBuf part; (part = channel.readOutbound()) != null; part.release()) {
            encoded.writeBytes(part);
        }
        byte[] expected = new byte[encoded.readableBytes()];
        encoded.readBytes(expected);

        assertArrayEquals(expected, frame.webSocketFrame());
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        assertEquals(utf8.length, frame.payloadLength());
        assertArrayEquals(utf8, Arrays.copyOfRange(frame.webSocketFrame(), frame.payloadOffset(), frame.webSocketFrame().length));
        assertEquals(text.length(), frame.length(), "the queue's bounds count characters, as before");
    }
}
