package dev.copresence.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

import org.junit.jupiter.api.Test;

/** A fan-out's drain tasks reach each socket thread as one task, once the fan-out has offered to every socket. */
class DrainBatchTest {
    /** An executor that only records what it is given, to run later. */
    private static final class Loop implements Executor {
        final List<Runnable> given = new ArrayList<>();

        @Override
        public void execute(Runnable task) {
            given.add(task);
        }

        void runGiven() {
            new ArrayList<>(given).forEach(Runnable::run);
        }
    }

    @Test
    void outsideAFanOutATaskGoesToItsThreadAtOnce() {
        Loop loop = new Loop();
        DrainBatch.execute(loop, () -> { });
        assertEquals(1, loop.given.size());
    }

    @Test
    void aFanOutGivesEachThreadOneTaskAfterItHasOfferedToEverySocket() {
        Loop a = new Loop();
        Loop b = new Loop();
        List<String> ran = new ArrayList<>();
        DrainBatch.during(() -> {
            for (int i = 0; i < 3; i++) {
                int n = i;
                DrainBatch.execute(a, () -> ran.add("a" + n));
                DrainBatch.execute(b, () -> ran.add("b" + n));
            }
            assertEquals(0, a.given.size() + b.given.size(), "nothing handed over before the fan-out ends");
        });
        assertEquals(1, a.given.size());
        assertEquals(1, b.given.size());
        a.runGiven();
        b.runGiven();
        assertEquals(List.of("a0", "a1", "a2", "b0", "b1", "b2"), ran);
    }

    @Test
    void aFailingDrainDoesNotKeepTheOthersOfItsBatchFromRunning() {
        Loop loop = new Loop();
        List<String> ran = new ArrayList<>();
        DrainBatch.during(() -> {
            DrainBatch.execute(loop, () -> ran.add("first"));
            DrainBatch.execute(loop, () -> {
                throw new IllegalStateException("boom");
            });
            DrainBatch.execute(loop, () -> ran.add("third"));
        });
        loop.runGiven();
        assertEquals(List.of("first", "third"), ran);
    }

    @Test
    void aFanOutThatThrowsStillHandsOverWhatItGave() {
        Loop loop = new Loop();
        assertThrows(IllegalStateException.class, () -> DrainBatch.during(() -> {
            DrainBatch.execute(loop, () -> { });
            throw new IllegalStateException("fan-out failed half way");
        }));
        assertEquals(1, loop.given.size());
        // and the thread is not left batching
        DrainBatch.execute(loop, () -> { });
        assertEquals(2, loop.given.size());
    }

    @Test
    void aNestedFanOutJoinsTheOuterBatch() {
        Loop loop = new Loop();
        DrainBatch.during(() -> {
            DrainBatch.execute(loop, () -> { });
            DrainBatch.during(() -> DrainBatch.execute(loop, () -> { }));
            assertEquals(0, loop.given.size());
        });
        assertEquals(1, loop.given.size());
    }
}
