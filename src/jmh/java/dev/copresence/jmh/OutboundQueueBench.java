package dev.copresence.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import dev.copresence.flow.Frame;
import dev.copresence.flow.OutboundQueue;
import dev.copresence.flow.TakeAllSink;

/**
 * One connection's outbound queue: a frame offered to a socket that takes everything (the common
 * case: queue, drain task, write, flush), and a cursor storm into a socket that takes nothing (every
 * offer conflates).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class OutboundQueueBench {
    static final Frame FRAME = new Frame("{\"type\":\"broadcast\",\"doc\":\"notes-42\",\"from\":\"m-1ux76l3b4ydhs\",\"data\":{\"bt\":1,\"bk\":1,\"bs\":42},\"offset\":\"1795315542067-17\"}");

    /** A socket that never takes anything more: every frame stays queued. */
    static final class Stalled implements OutboundQueue.Sink {
        @Override
        public void execute(Runnable task) {
            task.run();
        }

        @Override
        public boolean open() {
            return true;
        }

        @Override
        public boolean writable() {
            return false;
        }

        @Override
        public void write(Frame frame) {
            throw new IllegalStateException("a stalled socket is never written to");
        }

        @Override
        public void flush() {
        }

        @Override
        public void whenFlushed(Runnable then) {
        }

        @Override
        public void close(int code, String reason) {
            throw new IllegalStateException("closed " + code + ": the benchmark must not overflow");
        }
    }

    /** Bytes handed to the socket that takes everything: consumed, so the JIT cannot drop the writes. */
    long written;
    OutboundQueue writing;
    OutboundQueue stalled;
    Object[] keys;
    Frame[] updates;
    int i;

    @Setup
    public void setup() {
        writing = new OutboundQueue(new TakeAllSink(frame -> written += frame.wire().length), OutboundQueue.Listener.NONE,
                1 << 20, 4096);
        stalled = new OutboundQueue(new Stalled(), OutboundQueue.Listener.NONE, 1 << 20, 4096);
        keys = new Object[200]; // 200 members moving their cursors
        updates = new Frame[200];
        for (int m = 0; m < keys.length; m++) {
            keys[m] = "notes-42/m-" + m + "/update";
            updates[m] = new Frame("{\"type\":\"presence\",\"doc\":\"notes-42\",\"event\":\"update\",\"member\":{\"id\":\"m-" + m
                    + "\",\"user\":{\"id\":\"u" + m + "\",\"name\":\"U\"},\"state\":{\"x\":1,\"y\":2},\"typing\":false,\"joinedAt\":1}}");
        }
    }

    /** Durable frame, socket takes it at once: queue, drain, write, flush. */
    @Benchmark
    public boolean offerAndWrite() {
        return writing.offer(FRAME, null);
    }

    /** Ephemeral frame into a full socket: after the first 200, each offer replaces a queued one. */
    @Benchmark
    public boolean offerConflated() {
        int m = i++ % keys.length;
        return stalled.offer(updates[m], keys[m]);
    }
}
