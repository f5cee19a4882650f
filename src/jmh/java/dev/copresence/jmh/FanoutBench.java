package dev.copresence.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

import com.fasterxml.jackson.databind.JsonNode;

import dev.copresence.flow.Frame;
import dev.copresence.flow.OutboundQueue;
import dev.copresence.flow.TakeAllSink;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ServerMessage;

/**
 * Fan-out of one event to N local connections, as DocumentHub does it: the frame is encoded once
 * (JSON, then UTF-8) and the same Frame offered to every member's queue, each written to a socket
 * that takes it at once. {@code encodeEach} is the cost the design avoids (one encoding per member),
 * for comparison. Reported per event: divide by N for per delivery.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FanoutBench {
    @Param({ "100", "1000", "5000" })
    int members;

    OutboundQueue[] queues;
    /** Bytes handed to the sockets: consumed, so the JIT cannot drop the writes. */
    long written;
    ServerMessage.Broadcast event;

    @Setup
    public void setup() {
        queues = new OutboundQueue[members];
        for (int i = 0; i < members; i++) {
            queues[i] = new OutboundQueue(new TakeAllSink(frame -> written += frame.wire().length), OutboundQueue.Listener.NONE,
                    1 << 20, 4096);
        }
        JsonNode data = Codec.readTreeOrNull("{\"bt\":123456789012345,\"bk\":1,\"bs\":42}");
        event = new ServerMessage.Broadcast("notes-42", "m-1ux76l3b4ydhs", data, null);
    }

    @Benchmark
    public int encodeOnce() {
        Frame frame = new Frame(Codec.withOffset(Codec.durablePrefix(event), "1795315542067-17"));
        int ok = 0;
        for (OutboundQueue q : queues) {
            if (q.offer(frame, null)) {
                ok++;
            }
        }
        return ok;
    }

    @Benchmark
    public void encodeEach(Blackhole bh) {
        for (OutboundQueue q : queues) {
            bh.consume(q.offer(new Frame(Codec.withOffset(Codec.durablePrefix(event), "1795315542067-17")), null));
        }
    }
}
