package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * A text message's bytes are UTF-8 exactly when the JDK's strict decoder says so, however they are
 * cut into fragments; a valid one passes untouched, and an invalid one passes whole with the mark
 * that closes its connection with 1007.
 */
class Utf8FramesTest {

    @Property(tries = 20_000)
    void aMessageIsMarkedExactlyWhenItsBytesAreNotUtf8(@ForAll("nearlyUtf8") byte[] bytes, @ForAll("cuts") List<Integer> cuts) {
        byte[] passed = through(bytes, cuts);
        if (strictlyUtf8(bytes)) {
            assertArrayEquals(bytes, passed);
        } else {
            assertTrue(Utf8Frames.markedInvalid(new String(passed, StandardCharsets.UTF_8)),
                    () -> "not marked: " + ByteBufUtil.hexDump(bytes));
            // every byte still counts against the message limit, and the mark is added once
            assertEquals(bytes.length + Utf8Frames.INVALID.length(), passed.length, () -> ByteBufUtil.hexDump(bytes));
        }
    }

    @Test
    void aRealReplacementCharacterIsText() {
        byte[] bytes = "{\"id\":\"a\uFFFDb\"}".getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(bytes, through(bytes, List.of()));
    }

    @Test
    void aMessageThatStopsInTheMiddleOfACharacterIsInvalid() {
        byte[] bytes = { '"', (byte) 0xE2, (byte) 0x82 };
        assertTrue(Utf8Frames.markedInvalid(new String(through(bytes, List.of(1)), StandardCharsets.UTF_8)));
    }

    @Test
    void theMessageAfterABadOneIsCheckedAfresh() {
        EmbeddedChannel channel = new EmbeddedChannel(new Utf8Frames());
        channel.writeInbound(new TextWebSocketFrame(false, 0, Unpooled.wrappedBuffer(new byte[] { 'a', (byte) 0xC3 })));
        channel.writeInbound(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(new byte[] { (byte) 0xFF })));
        channel.writeInbound(new TextWebSocketFrame("ok"));
        List<byte[]> contents = drain(channel);
        assertEquals(3, contents.size());
        assertTrue(Utf8Frames.markedInvalid(new String(concat(contents.subList(0, 2)), StandardCharsets.UTF_8)));
        assertEquals("ok", new String(contents.get(2), StandardCharsets.UTF_8));
    }

    @Test
    void binaryMessagesAndTheirFragmentsPassUnchecked() {
        EmbeddedChannel channel = new EmbeddedChannel(new Utf8Frames());
        byte[] notText = { (byte) 0xFF, (byte) 0xFE };
        channel.writeInbound(new BinaryWebSocketFrame(false, 0, Unpooled.wrappedBuffer(notText)));
        channel.writeInbound(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(notText)));
        List<byte[]> contents = drain(channel);
        assertArrayEquals(notText, contents.get(0));
        assertArrayEquals(notText, contents.get(1));
        assertFalse(channel.finish());
    }

    /** Text frames whose bytes are mostly UTF-8's building blocks: lead and continuation bytes, and ASCII. */
    @Provide
    Arbitrary<byte[]> nearlyUtf8() {
        Arbitrary<byte[]> valid = Arbitraries.strings().ofMaxLength(12).map(s -> s.getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> edges = Arbitraries.of(0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
                0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF, 0x22)
                .map(b -> new byte[] { (byte) (int) b });
        return Arbitraries.oneOf(valid, edges).list().ofMaxSize(8).map(Utf8FramesTest::concat);
    }

    @Provide
    Arbitrary<List<Integer>> cuts() {
        return Arbitraries.integers().between(0, 40).list().ofMaxSize(4);
    }

    /** The bytes as one text message, cut into fragments where the cuts say, as the handler hands them on. */
    private static byte[] through(byte[] bytes, List<Integer> cuts) {
        EmbeddedChannel channel = new EmbeddedChannel(new Utf8Frames());
        List<Integer> at = new ArrayList<>(cuts.stream().filter(c -> c < bytes.length).sorted().distinct().toList());
        at.add(bytes.length);
        int from = 0;
        List<WebSocketFrame> sent = new ArrayList<>();
        for (int i = 0; i < at.size(); i++) {
            boolean fin = i == at.size() - 1;
            var content = Unpooled.buffer().writeBytes(Arrays.copyOfRange(bytes, from, at.get(i)));
            WebSocketFrame frame = i == 0 ? new TextWebSocketFrame(fin, 0, content) : new ContinuationWebSocketFrame(fin, 0, content);
            sent.add(frame);
            channel.writeInbound(frame);
            from = at.get(i);
        }
        byte[] passed = concat(drain(channel));
        assertFalse(channel.finish());
        // whoever reads what the handler hands on releases it once, and with it every buffer sent
        assertTrue(sent.stream().allMatch(frame -> frame.refCnt() == 0), "a buffer was leaked");
        return passed;
    }

    private static List<byte[]> drain(EmbeddedChannel channel) {
        List<byte[]> contents = new ArrayList<>();
        for (WebSocketFrame frame; (frame = channel.readInbound()) != null;) {
            contents.add(ByteBufUtil.getBytes(frame.content()));
            frame.release();
        }
        return contents;
    }

    private static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }

    private static boolean strictlyUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
