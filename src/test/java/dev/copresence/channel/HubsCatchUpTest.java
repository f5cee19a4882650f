package dev.copresence.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.NotificationOptions;
import jakarta.enterprise.util.TypeLiteral;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smallrye.mutiny.Uni;

import dev.copresence.engine.DocEvent;
import dev.copresence.engine.Log;
import dev.copresence.engine.Replay;
import dev.copresence.engine.memory.MemoryEngine;

/**
 * A catch-up whose read of the log fails: a failure that passes (a failover, a pool reconnecting)
 * costs its readers nothing; one that lasts through every try ends them, so that they resume.
 */
class HubsCatchUpTest {
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    /** A catch-up read that has not answered in 200 ms counts as timed out here (10 s in a node). */
    private final Hubs hubs = new Hubs(new MemoryEngine(1000, Duration.ofHours(1), Clock.systemUTC()).asEngine(),
            new StatusWatchers(), new NoResync(), meters, Duration.ofMillis(200));
    private final List<String> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger reads = new AtomicInteger();
    private final Map<String, AtomicInteger> readsPerDoc = new ConcurrentHashMap<>();

    private Observer reader() {
        return reader("doc", received);
    }

    /** An active reader of {@code doc}; its end is recorded with the count of incomplete catch-ups at that moment. */
    private Observer reader(String doc, List<String> into) {
        Observer reader = new Observer(doc, (event, frame) -> into.add(event.frame()),
                () -> into.add("ended, counted " + (int) meters.counter("copresence.catchup.incomplete").count()));
        hubs.observe(reader).await().atMost(Duration.ofSeconds(5));
        reader.activate("1-1");
        return reader;
    }

    private static DocEvent event(int n) {
        return DocEvent.durable("1-" + n, null, false, "e" + n);
    }

    @Test
    void aReadThatFailsOnceIsTriedAgainAndItsReadersMissNothing() {
        reader();
        hubs.catchUp(log(n -> n == 1 ? Uni.createFrom().failure(new IllegalStateException("a failover"))
                : Uni.createFrom().item(new Log.Missed(List.of(event(2), event(3)), true))), 0)
                .await().atMost(Duration.ofSeconds(10));
        assertEquals(List.of("e2", "e3"), received, "every event, and no end");
        assertEquals(2, reads.get());
    }

    @Test
    void aReadThatFailsEveryTryEndsItsReaders() {
        reader();
        hubs.catchUp(log(n -> Uni.createFrom().failure(new IllegalStateException("Redis away"))), 0)
                .await().atMost(Duration.ofSeconds(15));
        assertEquals(List.of("ended, counted 1"), received, "what it missed cannot be known: told to resume, counted first");
        assertEquals(3, reads.get(), "three tries");
    }

    @Test
    void onceADocumentsReadsHaveTimedOutEveryTryTheDocumentsAfterItTryOnce() {
        List<String> ends = new CopyOnWriteArrayList<>();
        for (int d = 0; d < 9; d++) { // one more than are caught up at once
            reader("doc-" + d, ends);
        }
        hubs.catchUp(log(n -> Uni.createFrom().nothing()), 0).await().atMost(Duration.ofSeconds(30));
        assertEquals(9, ends.size(), "every reader told to resume: " + ends);
        List<Integer> tries = readsPerDoc.values().stream().map(AtomicInteger::get).sorted().toList();
        assertEquals(1, tries.get(0), "the document caught up after the first ones timed out tries once: " + tries);
        assertTrue(tries.get(1) >= 2, "those caught up beside the first to give up tried again: " + tries);
    }

    /** A log whose n-th read of missed events answers {@code answer.apply(n)}. */
    private Log log(IntFunction<Uni<Log.Missed>> answer) {
        return new Log() {
            @Override
            public Uni<Log.Missed> eventsAfter(String doc, String offset, boolean all) {
                return Uni.createFrom().deferred(() -> {
                    readsPerDoc.computeIfAbsent(doc, d -> new AtomicInteger()).incrementAndGet();
                    return answer.apply(reads.incrementAndGet());
                });
            }

            @Override
            public Uni<String> broadcast(String doc, String origin, boolean echo, String prefix) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Uni<Replay> readAfter(String doc, String since, String until) {
                throw new UnsupportedOperationException();
            }
        };
    }

    /** The resync a bus asks for is not under test here. */
    private static final class NoResync implements Event<Hubs.Resync> {
        @Override
        public void fire(Hubs.Resync event) {
        }

        @Override
        public <U extends Hubs.Resync> CompletionStage<U> fireAsync(U event) {
            return null;
        }

        @Override
        public <U extends Hubs.Resync> CompletionStage<U> fireAsync(U event, NotificationOptions options) {
            return null;
        }

        @Override
        public Event<Hubs.Resync> select(Annotation... qualifiers) {
            return this;
        }

        @Override
        public <U extends Hubs.Resync> Event<U> select(Class<U> subtype, Annotation... qualifiers) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <U extends Hubs.Resync> Event<U> select(TypeLiteral<U> subtype, Annotation... qualifiers) {
            throw new UnsupportedOperationException();
        }
    }
}
