package dev.copresence.flow;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

import org.jboss.logging.Logger;

/**
 * The drain tasks a fan-out gives to sockets, held until it has offered its event to every one of
 * them and then handed to each socket's thread as one task. A fan-out from one event loop to sockets
 * of another gave that loop a task per socket: each could wake it (a system call), and where loops
 * share a CPU the woken loop ran at once, its sockets' writes scattered between the fan-out's
 * offers, a context switch each time. Now a loop is woken at most once per event, and writes its
 * sockets one after another. Outside a fan-out a task goes to its thread at once, as before.
 * <p>
 * Per thread, and not nested: a fan-out inside another (an event delivered while one is) joins the
 * outer one's batch, which is released when the outer one ends.
 */
public final class DrainBatch {
    private static final Logger LOG = Logger.getLogger(DrainBatch.class);
    private static final ThreadLocal<DrainBatch> CURRENT = new ThreadLocal<>();

    /** Few: one per event loop that the fan-out reached, found by identity. */
    private final List<Executor> loops = new ArrayList<>(4);
    private final List<List<Runnable>> tasks = new ArrayList<>(4);

    private DrainBatch() {
    }

    /** Runs a fan-out; the drain tasks it gives go to their threads when it returns (or throws). */
    public static void during(Runnable fanout) {
        if (CURRENT.get() != null) {
            fanout.run();
            return;
        }
        DrainBatch batch = new DrainBatch();
        CURRENT.set(batch);
        try {
            fanout.run();
        } finally {
            CURRENT.remove();
            batch.release();
        }
    }

    /** Gives {@code task} to {@code thread}: at once, or at the end of the fan-out under way on this thread. */
    public static void execute(Executor thread, Runnable task) {
        DrainBatch batch = CURRENT.get();
        if (batch == null) {
            thread.execute(task);
        } else {
            batch.add(thread, task);
        }
    }

    private void add(Executor thread, Runnable task) {
        for (int i = 0; i < loops.size(); i++) {
            if (loops.get(i) == thread) {
                tasks.get(i).add(task);
                return;
            }
        }
        loops.add(thread);
        List<Runnable> list = new ArrayList<>();
        list.add(task);
        tasks.add(list);
    }

    private void release() {
        for (int i = 0; i < loops.size(); i++) {
            List<Runnable> list = tasks.get(i);
            loops.get(i).execute(() -> runAll(list));
        }
    }

    /** Each task on its own: one that fails must not leave the others' queues waiting for a drain forever. */
    private static void runAll(List<Runnable> list) {
        for (Runnable task : list) {
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                LOG.error("a socket's drain failed", e);
            }
        }
    }
}
