package dev.copresence.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.lang.annotation.Annotation;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;

import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.NotificationOptions;
import jakarta.enterprise.util.TypeLiteral;

import com.fasterxml.jackson.databind.JsonNode;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.vertx.mutiny.core.Vertx;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import dev.copresence.config.CopresenceConfig;
import dev.copresence.engine.Engine;
import dev.copresence.engine.memory.MemoryEngine;
import dev.copresence.flow.InboundQueue;
import dev.copresence.flow.OutboundQueue;
import dev.copresence.flow.TakeAllSink;
import dev.copresence.flow.RateLimiter;
import dev.copresence.protocol.ClientMessage;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ProtocolException;
import dev.copresence.security.Access;
import dev.copresence.security.Tokens;

/**
 * Property: whatever frame a client sends, the codec and the command handling never let an exception
 * escape, every frame gets at most one answer, and a refused frame changes no state. 2 x 50,000
 * frames, random and mutated from valid ones, run through the real codec, command handler and
 * in-memory engine of one session.
 */
class RandomFramesPropertyTest {
    private static final List<String> DOCS = List.of("d1", "d2", "d3");
    private static Vertx vertx;
    private static Engine engine;
    private static CommandHandler handler;
    private static Membership membership;
    private static Session session;
    private static final List<String> sent = new ArrayList<>();

    @BeforeContainer
    static void wire() {
        SmallRyeConfig config = new SmallRyeConfigBuilder().withMapping(CopresenceConfig.class)
                .withConverter(Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .withDefaultValue("copresence.limits.docs-per-connection", "2")
                // a typing flag set by an earlier try must not expire between a check's two snapshots of the state
                .withDefaultValue("copresence.typing.ttl", "1h").build();
        CopresenceConfig copresence = config.getConfigMapping(CopresenceConfig.class);
        vertx = Vertx.vertx();
        engine = new MemoryEngine(100, Duration.ofHours(1), Clock.systemUTC()).asEngine();
        StatusWatchers statusWatchers = new StatusWatchers();
        Hubs hubs = new Hubs(engine, statusWatchers, new NoEvents<>(), new SimpleMeterRegistry());
        hubs.listen();
        membership = new Membership(engine, hubs, statusWatchers, copresence, new Access(copresence, new Tokens(null, 60)),
                new OnlineCounts(engine), new UnrecordedLeaves(engine, copresence));
        MemberWrites writes = new MemberWrites();
        handler = new CommandHandler(engine, statusWatchers, membership, copresence, vertx, new UnconfirmedChanges(engine, writes), writes);
        OutboundQueue out = new OutboundQueue(new TakeAllSink(frame -> {
            synchronized (sent) {
                sent.add(frame.text());
            }
        }), OutboundQueue.Listener.NONE, Integer.MAX_VALUE, Integer.MAX_VALUE);
        session = new Session("s-prop", null, out, (code, reason) -> {
        }, new RateLimiter(1_000_000, 1_000_000), new InboundQueue(InboundQueue.Reader.NONE, 32, 1_000_000));
    }

    @AfterContainer
    static void unwire() {
        if (vertx != null) {
            vertx.closeAndAwait();
        }
    }

    @Property(tries = 50_000)
    void aRandomFrameNeverThrowsAndARefusedOneChangesNothing(@ForAll("randomFrames") String frame) {
        check(frame);
    }

    @Property(tries = 50_000)
    void aMutatedValidFrameNeverThrowsAndARefusedOneChangesNothing(@ForAll("mutatedFrames") String frame) {
        check(frame);
    }

    private static void check(String frame) {
        String before = state();
        int sentBefore = sentCount();
        ClientMessage message;
        try {
            message = Codec.decode(frame);
        } catch (ProtocolException refused) {
            membership.report(session, refused);
            assertAnswer(sentBefore, "error");
            assertEquals(before, state(), "a refused frame changed state: " + frame);
            session.good();
            return;
        }
        handler.handle(session, message).await().atMost(Duration.ofSeconds(5));
        List<JsonNode> answers = answersSince(sentBefore);
        boolean refused = answers.stream().anyMatch(a -> "error".equals(a.path("type").asText()));
        if (refused) {
            assertEquals(before, state(), "a refused message changed state: " + frame);
        }
        session.good();
    }

    private static void assertAnswer(int sentBefore, String type) {
        List<JsonNode> answers = answersSince(sentBefore);
        assertEquals(1, answers.size(), "one answer per refused frame");
        assertEquals(type, answers.get(0).path("type").asText());
        assertNotNull(answers.get(0).get("code"));
    }

    private static List<JsonNode> answersSince(int index) {
        synchronized (sent) {
            List<JsonNode> answers = new ArrayList<>();
            for (String frame : sent.subList(index, sent.size())) {
                answers.add(Codec.readTreeOrNull(frame));
            }
            return answers;
        }
    }

    private static int sentCount() {
        synchronized (sent) {
            return sent.size();
        }
    }

    /** Everything a message could change: members and states of the documents, and the session's own state. */
    private static String state() {
        StringBuilder state = new StringBuilder();
        for (String doc : DOCS) {
            state.append(doc).append('=').append(engine.registry().snapshot(doc).await().indefinitely().members());
        }
        Set<String> joined = new TreeSet<>(session.memberships().keySet());
        Set<String> watched = new TreeSet<>(session.watched());
        return state.append(joined).append(watched).append(session.user()).toString();
    }

    @Provide
    Arbitrary<String> randomFrames() {
        return Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(200),
                Arbitraries.strings().withChars("{}[]\":,0123456789.-tfnaelsuryp ").ofMaxLength(120),
                Arbitraries.strings().ascii().ofMaxLength(300).map(s -> "{" + s + "}"));
    }

    @Provide
    Arbitrary<String> mutatedFrames() {
        Arbitrary<String> valid = Combinators.combine(
                Arbitraries.of("join", "leave", "update", "typing", "broadcast", "signal", "watch", "unwatch", "ping",
                        "auth", "nope"),
                Arbitraries.of(DOCS.get(0), DOCS.get(1), DOCS.get(2), "bad doc", "", "x".repeat(129)),
                Arbitraries.of("{\"a\":1}", "{\"a\":null}", "[1]", "1", "null", "\"s\"", "{\"big\":\"" + "y".repeat(5000) + "\"}"),
                Arbitraries.of("1", "\"id\"", "{}", "[]", "1.5", "null", "-7"),
                Arbitraries.of("true", "false", "\"true\"", "1"))
                .as((type, doc, value, id, bool) -> "{\"type\":\"" + type + "\",\"id\":" + id + ",\"doc\":\"" + doc
                        + "\",\"state\":" + value + ",\"data\":" + value + ",\"typing\":" + bool + ",\"echo\":" + bool
                        + ",\"to\":\"m-nobody\",\"users\":[\"u1\"],\"since\":\"1-1\",\"token\":\"t\"}");
        return Combinators.combine(valid, Arbitraries.integers().between(0, 400), Arbitraries.integers().between(0, 4),
                Arbitraries.chars().ascii())
                .as((frame, at, how, c) -> mutate(frame, Math.min(at, frame.length()), how, c));
    }

    private static String mutate(String frame, int at, int how, char c) {
        switch (how) {
            case 0:
                return frame;
            case 1:
                return frame.substring(0, at);
            case 2:
                return frame.substring(0, at) + c + frame.substring(at);
            case 3:
                return at < frame.length() ? frame.substring(0, at) + frame.substring(at + 1) : frame + c;
            default:
                return at < frame.length() ? frame.substring(0, at) + c + frame.substring(at + 1) : frame;
        }
    }

    /** The resync event is not exercised here. */
    private static final class NoEvents<T> implements Event<T> {
        @Override
        public void fire(T event) {
        }

        @Override
        public <U extends T> CompletionStage<U> fireAsync(U event) {
            return java.util.concurrent.CompletableFuture.completedFuture(event);
        }

        @Override
        public <U extends T> CompletionStage<U> fireAsync(U event, NotificationOptions options) {
            return fireAsync(event);
        }

        @Override
        public Event<T> select(Annotation... qualifiers) {
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <U extends T> Event<U> select(Class<U> subtype, Annotation... qualifiers) {
            return (Event<U>) this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <U extends T> Event<U> select(TypeLiteral<U> subtype, Annotation... qualifiers) {
            return (Event<U>) this;
        }
    }
}
