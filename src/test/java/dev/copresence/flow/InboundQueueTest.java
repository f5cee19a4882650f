package dev.copresence.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;

class InboundQueueTest {
    /** What the queue did to the socket's reading, in order. */
    private final List<String> reading = new ArrayList<>();
    private final InboundQueue.Reader reader = new InboundQueue.Reader() {
        @Override
        public void pause() {
            reading.add("pause");
        }

        @Override
        public void resume() {
            reading.add("resume");
        }
    };

    @Test
    void aHoldStopsReadingUntilItsConditionIsMetAndASecondHoldChangesNothing() {
        InboundQueue queue = new InboundQueue(reader, 4, 0);
        AtomicReference<Runnable> release = new AtomicReference<>();
        queue.holdReading(release::set);
        queue.holdReading(then -> { throw new AssertionError("a second hold while one is in place"); });
        assertEquals(List.of("pause"), reading);
        release.get().run();
        assertEquals(List.of("pause", "resume"), reading);
    }

    @Test
    void readingStaysPausedWhileTheQueueItselfIsFullWhateverTheHold() {
        InboundQueue queue = new InboundQueue(reader, 2, 0);
        AtomicReference<UniEmitter<? super Void>> running = new AtomicReference<>();
        queue.offer(() -> Uni.createFrom().<Void>emitter(running::set)); // runs, and does not finish yet
        queue.offer(() -> Uni.createFrom().voidItem());
        queue.offer(() -> Uni.createFrom().voidItem()); // two waiting: the queue pauses reading
        assertEquals(List.of("pause"), reading);

        AtomicReference<Runnable> release = new AtomicReference<>();
        queue.holdReading(release::set); // already paused: nothing more to do
        release.get().run(); // the hold ends, but the queue still holds reading paused
        assertEquals(List.of("pause"), reading);

        running.get().complete(null); // the queue empties: reading resumes
        assertEquals(List.of("pause", "resume"), reading);
    }

    @Test
    void whileAHoldIsInPlaceTheQueueEmptyingDoesNotResumeReading() {
        InboundQueue queue = new InboundQueue(reader, 2, 0);
        AtomicReference<UniEmitter<? super Void>> running = new AtomicReference<>();
        queue.offer(() -> Uni.createFrom().<Void>emitter(running::set));
        queue.offer(() -> Uni.createFrom().voidItem());
        queue.offer(() -> Uni.createFrom().voidItem());
        AtomicReference<Runnable> release = new AtomicReference<>();
        queue.holdReading(release::set);

        running.get().complete(null);
        assertEquals(List.of("pause"), reading, "the hold still stands");
        release.get().run();
        assertEquals(List.of("pause", "resume"), reading);
    }

    @Test
    void trimmingWhileTasksWaitLosesNoneAndTheyRunInArrivalOrder() {
        InboundQueue queue = new InboundQueue(reader, 8, 0);
        List<String> ran = new ArrayList<>();
        AtomicReference<UniEmitter<? super Void>> running = new AtomicReference<>();
        queue.offer(() -> {
            ran.add("first");
            return Uni.createFrom().<Void>emitter(running::set); // runs, and does not finish yet
        });
        for (String name : List.of("second", "third")) {
            queue.offer(() -> {
                ran.add(name);
                return Uni.createFrom().voidItem();
            });
        }
        queue.trim();
        assertEquals(2, queue.waiting(), "a trim takes nothing that waits");
        running.get().complete(null);
        assertEquals(List.of("first", "second", "third"), ran);
        queue.trim(); // now empty: its storage goes, and it queues as before
        queue.offer(() -> {
            ran.add("fourth");
            return Uni.createFrom().<Void>emitter(running::set);
        });
        queue.offer(() -> {
            ran.add("fifth");
            return Uni.createFrom().voidItem();
        });
        assertEquals(1, queue.waiting());
        running.get().complete(null);
        assertEquals(List.of("first", "second", "third", "fourth", "fifth"), ran);
        assertEquals(0, queue.waiting());
    }

    @Test
    void tasksAreRefusedPastFourTimesThePauseOrTheBurstWhicheverIsMore() {
        for (int[] pauseBurstMax : new int[][] { { 2, 0, 8 }, { 2, 20, 20 }, { 32, 200, 200 } }) {
            InboundQueue queue = new InboundQueue(reader, pauseBurstMax[0], pauseBurstMax[1]);
            queue.offer(() -> Uni.createFrom().emitter(running -> { })); // runs, and never finishes
            int taken = 0;
            while (queue.offer(() -> Uni.createFrom().voidItem())) {
                taken++;
            }
            assertEquals(pauseBurstMax[2], taken, "tasks waiting behind the running one, pause " + pauseBurstMax[0]
                    + " and burst " + pauseBurstMax[1]);
        }
    }
}
