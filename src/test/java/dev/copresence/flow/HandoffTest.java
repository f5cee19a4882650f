package dev.copresence.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;

import org.junit.jupiter.api.Test;

/**
 * A fan-out's drain tasks reach each event loop together, once it is over: one hand-over per loop,
 * every task in the order given, none lost when a task or the fan-out throws.
 */
class HandoffTest {

    /** An event loop that keeps what it is handed until the test runs it. */
    static final class Loop implements Executor {
        final List<Runnable> handed = new ArrayList<>();

        @Override
        public void execute(Runnable command) {
            handed.add(command);
        }

        void runAll() {
            List<Runnable> now = new ArrayList<>(handed);
            handed.clear();
            now.forEach(Runnable::run);
        }
    }

    @Test
    void aFanOutHandsEachLoopOneTaskHoldingItsDrainsInOrder() {
        Loop a = new Loop();
        Loop b = new Loop();
        List<String> ran = new ArrayList<>();
        Handoff.fanOut(() -> {
            for (int i = 0; i < 6; i++) {
                String name = "socket" + i;
                Handoff.execute(i % 2 == 0 ? a : b, () -> ran.add(name));
            }
            assertTrue(a.handed.isEmpty() && b.handed.isEmpty(), "nothing is handed over before the fan-out ends");
        });

        assertEquals(1, a.handed.size());
        assertEquals(1, b.handed.size());
        a.runAll();
        b.runAll();
        assertEquals(List.of("socket0", "socket2", "socket4", "socket1", "socket3", "socket5"), ran);
    }

    @Test
    void outsideAFanOutATaskGoesStraightToItsLoop() {
        Loop a = new Loop();
        List<String> ran = new ArrayList<>();
        Handoff.execute(a, () -> ran.add("answer"));
        Handoff.execute(a, () -> ran.add("another"));

        assertEquals(2, a.handed.size());
        a.runAll();
        assertEquals(List.of("answer", "another"), ran);
    }

    @Test
    void aNestedFanOutJoinsTheOuterOne() {
        Loop a = new Loop();
        List<String> ran = new ArrayList<>();
        Handoff.fanOut(() -> {
            Handoff.execute(a, () -> ran.add("outer"));
            Handoff.fanOut(() -> Handoff.execute(a, () -> ran.add("inner")));
            assertTrue(a.handed.isEmpty(), "the inner fan-out's end hands nothing over");
        });

        assertEquals(1, a.handed.size());
        a.runAll();
        assertEquals(List.of("outer", "inner"), ran);
    }

    @Test
    void aFanOutThatThrowsStillHandsOverWhatItStarted() {
        Loop a = new Loop();
        List<String> ran = new ArrayList<>();
        IllegalStateException failure = new IllegalStateException("a member's delivery failed");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Handoff.fanOut(() -> {
            Handoff.execute(a, () -> ran.add("before the failure"));
            throw failure;
        }));

        assertSame(failure, thrown);
        a.runAll();
        assertEquals(List.of("before the failure"), ran);
        Handoff.execute(a, () -> ran.add("after"));
        assertEquals(1, a.handed.size(), "the thread is out of the fan-out again");
    }

    @Test
    void aTaskThatThrowsDoesNotStopTheOthersOfItsLoop() {
        Loop a = new Loop();
        List<String> ran = new ArrayList<>();
        Handoff.fanOut(() -> {
            Handoff.execute(a, () -> ran.add("first"));
            Handoff.execute(a, () -> {
                throw new IllegalStateException("one socket's drain failed");
            });
            Handoff.execute(a, () -> ran.add("third"));
        });

        IllegalStateException reported = assertThrows(IllegalStateException.class, a::runAll);
        assertEquals("one socket's drain failed", reported.getMessage());
        assertEquals(List.of("first", "third"), ran);
    }

    @Test
    void aLoopThatRefusesDoesNotKeepTheOthersFromTheirTasks() {
        Executor stopped = task -> {
            throw new java.util.concurrent.RejectedExecutionException("event loop shut down");
        };
        Loop a = new Loop();
        List<String> ran = new ArrayList<>();
        assertThrows(java.util.concurrent.RejectedExecutionException.class, () -> Handoff.fanOut(() -> {
            Handoff.execute(stopped, () -> ran.add("never"));
            Handoff.execute(a, () -> ran.add("delivered"));
        }));

        a.runAll();
        assertEquals(List.of("delivered"), ran);
    }
}
