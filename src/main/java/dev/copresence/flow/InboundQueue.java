package dev.copresence.flow;

import java.util.ArrayDeque;
import java.util.function.Consumer;
import java.util.function.Supplier;

import io.smallrye.mutiny.Uni;

/**
 * One connection's inbound work, run one task at a time in arrival order. websockets-next 3.34
 * queues frames without bound and never pauses reading, so the endpoints run in its concurrent mode
 * and hand each frame here instead: past {@code pauseAt} waiting tasks the socket stops being read
 * (TCP pushes back on the client) until the queue is down to half; past {@code max} (frames already
 * read when reading paused: one read can hold hundreds of small ones) a task is refused. {@code max}
 * is four times {@code pauseAt}, and never less than the rate limiter's burst: a client that sends
 * its whole burst at once, while a join waits for Redis, must not be refused inside it.
 */
public final class InboundQueue {
    /** Pauses and resumes reading the socket. */
    public interface Reader {
        void pause();

        void resume();

        Reader NONE = new Reader() {
            @Override
            public void pause() {
            }

            @Override
            public void resume() {
            }
        };
    }

    /**
     * Made when a task must wait behind another: a connection's messages usually run one at a time,
     * and tens of thousands of connections sit idle. It grows while tasks queue up, and {@link #trim}
     * lets it go once they have run.
     */
    private ArrayDeque<Supplier<Uni<Void>>> waiting;
    private final Reader reader;
    private final int pauseAt;
    private final int max;
    private boolean running;
    private boolean paused;
    /** Reading is held for another reason than this queue's (see {@link #holdReading}). */
    private boolean held;
    private int deepest;

    public InboundQueue(Reader reader, int pauseAt, int burst) {
        this.reader = reader;
        this.pauseAt = Math.max(1, pauseAt);
        this.max = Math.max(this.pauseAt * 4, burst);
    }

    /** Runs the task now or after the ones before it; false when refused (the queue is full). */
    public boolean offer(Supplier<Uni<Void>> task) {
        synchronized (this) {
            if (running) {
                if (waiting == null) {
                    waiting = new ArrayDeque<>(2);
                } else if (waiting.size() >= max) {
                    return false;
                }
                waiting.addLast(task);
                deepest = Math.max(deepest, waiting.size());
                if (!paused && waiting.size() >= pauseAt) {
                    paused = true;
                    reader.pause();
                }
                return true;
            }
            running = true;
        }
        run(task);
        return true;
    }

    private void run(Supplier<Uni<Void>> first) {
        Supplier<Uni<Void>> task = first;
        while (task != null) {
            Uni<Void> work;
            try {
                work = task.get();
            } catch (RuntimeException e) {
                work = Uni.createFrom().voidItem();
            }
            // Completes synchronously for most commands: then loop here instead of recursing.
            Completion completion = new Completion();
            work.subscribe().with(ok -> completion.done(), failure -> completion.done());
            if (!completion.claimSynchronous()) {
                return;
            }
            task = next();
        }
    }

    /** Tells whether a task finished before {@code subscribe} returned, else continues when it does. */
    private final class Completion {
        private boolean finished;
        private boolean returned;

        synchronized void done() {
            finished = true;
            if (returned) {
                Supplier<Uni<Void>> task = next();
                if (task != null) {
                    run(task);
                }
            }
        }

        synchronized boolean claimSynchronous() {
            returned = true;
            return finished;
        }
    }

    private synchronized Supplier<Uni<Void>> next() {
        Supplier<Uni<Void>> task = waiting == null ? null : waiting.pollFirst();
        if (paused && waiting() <= pauseAt / 2) {
            paused = false;
            if (!held) {
                reader.resume();
            }
        }
        if (task == null) {
            running = false;
        }
        return task;
    }

    /**
     * Stops reading the socket until {@code until} runs the callback it is handed (for as long as
     * the connection's outbound side is full, say); reading then resumes unless this queue still
     * holds it paused. A hold while one is in place changes nothing.
     */
    public void holdReading(Consumer<Runnable> until) {
        synchronized (this) {
            if (held) {
                return;
            }
            held = true;
            if (!paused) {
                reader.pause();
            }
        }
        Runnable release = () -> {
            synchronized (this) {
                held = false;
                if (!paused) {
                    reader.resume();
                }
            }
        };
        try {
            until.accept(release);
        } catch (RuntimeException e) {
            release.run(); // no condition to wait for: reading must not stay held for ever
            throw e;
        }
    }

    /** The most tasks that ever waited at once (for tests and metrics). */
    public synchronized int deepest() {
        return deepest;
    }

    public synchronized int waiting() {
        return waiting == null ? 0 : waiting.size();
    }

    /**
     * Lets the queue's storage go if nothing waits: an array grown by a burst of messages would
     * otherwise stay as large for the connection's life. Called now and then (the liveness tick),
     * not after every task, so that a busy connection does not make a new one for each burst.
     */
    public synchronized void trim() {
        if (waiting != null && waiting.isEmpty()) {
            waiting = null;
        }
    }
}
