package dev.copresence.transport;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * The UTF-8 check every inbound text message now goes through, beside what the same message costs
 * to decode ({@code CodecBench.decodeUpdate}): a cursor update, and a broadcast of text that is
 * mostly not ASCII. In the same package as the handler, which is not public.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class Utf8FramesBench {
    private static final String UPDATE = "{\"type\":\"update\",\"doc\":\"notes-42\",\"state\":{\"cursor\":{\"x\":120,\"y\":48},\"sel\":[3,9]}}";
    private static final String TEXT = "{\"type\":\"broadcast\",\"doc\":\"notes-42\",\"data\":{\"text\":\""
            + "Grüße aus Köln — 東京からこんにちは 🙂 ".repeat(8) + "\"}}";

    private ByteBuf update;
    private ByteBuf text;
    private Utf8Frames check;

    @Setup
    public void setup() {
        update = Unpooled.directBuffer().writeBytes(UPDATE.getBytes(StandardCharsets.UTF_8));
        text = Unpooled.directBuffer().writeBytes(TEXT.getBytes(StandardCharsets.UTF_8));
        check = new Utf8Frames();
    }

    @Benchmark
    public int checkUpdate() {
        return update.forEachByte(check);
    }

    @Benchmark
    public int checkNonAsciiText() {
        return text.forEachByte(check);
    }
}
