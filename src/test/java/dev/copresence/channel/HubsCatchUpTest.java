package dev.copresence.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.annotation.Annotation;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
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
    private final Hubs hubs = new Hubs(new MemoryEngine(1000, Duration.ofHours(1), Clock.systemUTC()).asEngine(),
            new StatusWatchers(), new NoResync(), new SimpleMeterRegistry());
    private final List<String> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger reads = new AtomicInteger();

    private Observer reader() {
        Observer reader = new Observer("doc", (event, frame) -> received.add(event.frame()), () -> received.add("ended"));
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
        assertEquals(List.of("ended"), received, "what it missed cannot be known: told to resume");
        assertEquals(3, reads.get(), "three tries");
    }

    /** A log whose n-th read of missed events answers {@code answer.apply(n)}. */
    private Log log(IntFunction<Uni<Log.Missed>> answer) {
        return new Log() {
            @Override
            public Uni<Log.Missed> eventsAfter(String doc, String offset, boolean all) {
                return Uni.createFrom().deferred(() -> answer.apply(reads.incrementAndGet()));
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
