package dev.copresence.flow;

import java.util.function.Consumer;

/**
 * A socket on the caller's thread that takes every frame at once and never fills up: tasks run
 * immediately, and each frame written goes to {@code written}. For tests and benchmarks that are
 * about what reaches a socket, not about its pace.
 */
public final class TakeAllSink implements OutboundQueue.Sink {
    private final Consumer<Frame> written;

    public TakeAllSink(Consumer<Frame> written) {
        this.written = written;
    }

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
        return true;
    }

    @Override
    public void write(Frame frame) {
        written.accept(frame);
    }

    @Override
    public void flush() {
    }

    @Override
    public void whenFlushed(Runnable then) {
        then.run();
    }

    @Override
    public void close(int code, String reason) {
        throw new AssertionError("closed with " + code + ": " + reason);
    }
}
