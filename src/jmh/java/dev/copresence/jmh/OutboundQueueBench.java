package dev.copresence.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import dev.copresence.flow.OutboundQueue;
import io.smallrye.mutiny.Uni;

/**
 * One connection's outbound queue: a frame offered to a socket that writes at once (the common
 * case), and a cursor storm into a socket that does not drain (every offer conflates).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class OutboundQueueBench {
    static final String FRAME = "{\"type\":\"broadcast\",\"doc\":\"notes-42\",\"from\":\"m-1ux76l3b4ydhs\",\"data\":{\"bt\":1,\"bk\":1,\"bs\":42},\"offset\":\"1795315542067-17\"}";
    static final Uni<Void> DONE = Uni.createFrom().voidItem();
    static final Uni<Void> NEVER = Uni.createFrom().nothing();

    static final class Sink implements OutboundQueue.Sink {
        final Uni<Void> result;

        Sink(Uni<Void> result) {
            this.result = result;
        }

        @Override
        public Uni<Void> write(String frame) {
            return result;
        }

        @Override
        public void close(int code, String reason) {
            throw new IllegalStateException("closed " + code + ": the benchmark must not overflow");
        }
    }

    OutboundQueue writing;
    OutboundQueue stalled;
    Object[] keys;
    String[] updates;
    int i;

    @Setup
    public void setup() {
        writing = new OutboundQueue(new Sink(DONE), OutboundQueue.Listener.NONE, 1 << 20, 4096, 16);
        stalled = new OutboundQueue(new Sink(NEVER), OutboundQueue.Listener.NONE, 1 << 20, 4096, 16);
        keys = new Object[200]; // 200 members moving their cursors
        updates = new String[200];
        for (int m = 0; m < keys.length; m++) {
            keys[m] = "notes-42/m-" + m + "/update";
            updates[m] = "{\"type\":\"presence\",\"doc\":\"notes-42\",\"event\":\"update\",\"member\":{\"id\":\"m-" + m
                    + "\",\"user\":{\"id\":\"u" + m + "\",\"name\":\"U\"},\"state\":{\"x\":1,\"y\":2},\"typing\":false,\"joinedAt\":1}}";
        }
    }

    /** Durable frame, socket writes at once: queue, hand to the socket, complete. */
    @Benchmark
    public boolean offerAndWrite() {
        return writing.offer(FRAME, null);
    }

    /** Ephemeral frame into a stalled socket: after the first 216, each offer replaces a queued one. */
    @Benchmark
    public boolean offerConflated() {
        int m = i++ % keys.length;
        return stalled.offer(updates[m], keys[m]);
    }
}
