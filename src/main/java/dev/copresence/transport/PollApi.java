package dev.copresence.transport;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;

import dev.copresence.channel.Hubs;
import dev.copresence.channel.Observer;
import dev.copresence.config.CopresenceConfig;
import dev.copresence.engine.Engine;
import dev.copresence.engine.Replay;
import dev.copresence.engine.Snapshot;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.Ids;
import dev.copresence.protocol.ProtocolException;
import dev.copresence.protocol.ServerMessage;
import dev.copresence.security.HttpGuard;

/**
 * Long polling, the fallback where a proxy strips the WebSocket upgrade: the durable events after
 * {@code since}, at once when there are some, else the first one within {@code timeout} seconds. Any
 * node can answer any poll: the log is shared, so no sticky session is needed.
 */
@Path("/poll")
@Produces(MediaType.APPLICATION_JSON)
public class PollApi {
    static final int DEFAULT_TIMEOUT = 25;
    static final int MAX_TIMEOUT = 30;

    private final Engine engine;
    private final Hubs hubs;
    private final PollWaits waits;
    /** A wait must end before the HTTP idle timeout closes the quiet connection under it. */
    private final Duration longestWait;
    /**
     * Characters of events one answer holds (at least one event): a history can be a thousand events of
     * 64 KiB, and an answer is built whole; the next poll, from the answer's offset, has the rest.
     */
    private final int answerLimit;

    public PollApi(Engine engine, Hubs hubs, PollWaits waits, CopresenceConfig config,
            @ConfigProperty(name = "quarkus.http.idle-timeout") Duration httpIdleTimeout) {
        this.engine = engine;
        this.hubs = hubs;
        this.waits = waits;
        this.longestWait = IdleTimeouts.longestPoll(httpIdleTimeout);
        this.answerLimit = config.limits().sendBuffer();
    }

    @GET
    @Path("/documents/{doc}")
    public Uni<Response> poll(@PathParam("doc") String doc, @QueryParam("since") String sinceParam,
            @QueryParam("timeout") String timeoutParam, RoutingContext routing) {
        return answer(doc, sinceParam, timeoutParam, routing).invoke(answer -> closeIfDraining(routing));
    }

    /**
     * While the node drains, a poll's answer goes with its connection closed after it: a client's next
     * poll on a kept-alive connection would come back to this node, be answered at once, and again.
     */
    private void closeIfDraining(RoutingContext routing) {
        if (!waits.answering()) {
            return;
        }
        if (routing.request().version() != HttpVersion.HTTP_2) {
            routing.response().putHeader(HttpHeaders.CONNECTION, "close");
        }
        routing.addEndHandler(ended -> routing.request().connection().close());
    }

    private Uni<Response> answer(String doc, String sinceParam, String timeoutParam, RoutingContext routing) {
        String since;
        Duration timeout;
        try {
            Ids.requireDoc(doc);
            since = HttpChecks.offset(sinceParam);
            Duration asked = Duration.ofSeconds(timeout(timeoutParam));
            // a wait ends when its token expires, as a WebSocket is closed then: no event after it
            Long expiresAt = routing.get(HttpGuard.FEED_EXPIRES_AT);
            Duration tokenLeft = expiresAt == null ? longestWait
                    : Duration.ofMillis(Math.max(0, expiresAt - System.currentTimeMillis()));
            timeout = shortest(asked, longestWait, tokenLeft);
        } catch (ProtocolException e) {
            return Uni.createFrom().item(RestApi.error(e));
        }
        if (waits.answering()) { // the node drains: nothing new here, poll again (elsewhere)
            return Uni.createFrom().item(answer(List.of(), since));
        }
        if (since == null && timeout.isZero()) { // waits for nothing: where the document stands, to poll from
            return current(doc).map(now -> answer(List.of(), now.offset())).onFailure().recoverWithItem(PollApi::unavailable);
        }
        if (since == null) {
            return waitForNext(doc, null, timeout);
        }
        return engine.log().readAfter(doc, since, null).chain(replay -> {
            if (!replay.resumed()) {
                return notResumed(doc);
            }
            if (!replay.frames().isEmpty() || timeout.isZero()) {
                return Uni.createFrom().item(answer(replay.frames(), replay.offset()));
            }
            return waitForNext(doc, since, timeout);
        }).onFailure(t -> !(t instanceof ProtocolException)).recoverWithItem(PollApi::unavailable);
    }

    private static Duration shortest(Duration a, Duration b, Duration c) {
        Duration ab = a.compareTo(b) > 0 ? b : a;
        return ab.compareTo(c) > 0 ? c : ab;
    }

    /** Seconds: default 25; more than 30 is served as 30 (a proxy's idle limit is the real bound). */
    static int timeout(String value) {
        if (value == null || value.isEmpty()) {
            return DEFAULT_TIMEOUT;
        }
        int seconds;
        try {
            seconds = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw ProtocolException.badRequest("timeout must be a whole number of seconds, 0 to " + MAX_TIMEOUT);
        }
        if (seconds < 0) {
            throw ProtocolException.badRequest("timeout must be a whole number of seconds, 0 to " + MAX_TIMEOUT);
        }
        return Math.min(seconds, MAX_TIMEOUT);
    }

    /**
     * Observes the document, then reads where it stands (what the observer is sure to follow from), and
     * answers with the first durable event after that, or with none once the timeout (more than 0) passes.
     */
    private Uni<Response> waitForNext(String doc, String since, Duration timeout) {
        // Where the answer after a timeout resumes from: the last offset known when the wait began.
        AtomicReference<String> from = new AtomicReference<>(since);
        return Uni.createFrom().<Response>emitter(emitter -> {
            Observer observer = new Observer(doc, (event, frame) -> {
                if (event.kind().durable()) {
                    emitter.complete(answer(List.of(event.frame()), event.offset()));
                }
            }, () -> emitter.complete(answer(List.of(), from.get())));
            Runnable answerNow = () -> emitter.complete(answer(List.of(), from.get())); // the node drains
            emitter.onTermination(() -> {
                hubs.unobserve(observer);
                waits.remove(answerNow);
            });
            waits.add(answerNow);
            if (waits.answering()) {
                return; // answered: nothing to observe
            }
            hubs.observe(observer).chain(() -> since == null ? current(doc) : engine.log().readAfter(doc, since, null))
                    .subscribe().with(replay -> {
                        if (!replay.resumed()) { // an answer before this one's (a timeout) leaves the client where it was
                            notResumed(doc).subscribe().with(emitter::complete, emitter::fail);
                            return;
                        }
                        from.set(replay.offset());
                        if (!replay.frames().isEmpty()) {
                            emitter.complete(answer(replay.frames(), replay.offset()));
                        } else {
                            observer.activate(replay.offset());
                        }
                    }, emitter::fail);
        }).ifNoItem().after(timeout).recoverWithItem(() -> answer(List.of(), from.get()))
                .onFailure().recoverWithItem(PollApi::unavailable);
    }

    /** Where the document stands now, as an empty replay from its last offset. */
    private Uni<Replay> current(String doc) {
        return engine.registry().snapshot(doc).map(s -> new Replay(true, List.of(), s.offset()));
    }

    private Uni<Response> notResumed(String doc) {
        return engine.registry().snapshot(doc).map(PollApi::notResumed);
    }

    private static Response notResumed(Snapshot snapshot) {
        return RestApi.ok("{\"events\":[],\"offset\":" + Codec.quote(snapshot.offset()) + ",\"resumed\":false,\"members\":"
                + Codec.encodeMembers(snapshot.members()) + "}");
    }

    /**
     * Frames are already JSON: they go into the answer as they are, up to {@link #answerLimit}
     * characters; an answer cut short has its last event's offset, where the next poll goes on.
     */
    private Response answer(List<String> frames, String offset) {
        int taken = 0;
        long chars = 0;
        while (taken < frames.size() && (taken == 0 || chars + frames.get(taken).length() < answerLimit)) {
            chars += frames.get(taken).length() + 1;
            taken++;
        }
        String last = offset;
        if (taken < frames.size()) {
            String cut = Codec.offsetOf(frames.get(taken - 1));
            if (cut != null) {
                last = cut;
            } else {
                taken = frames.size(); // not a durable event's frame: nothing to go on from, so all of it
            }
        }
        StringBuilder json = new StringBuilder("{\"events\":[");
        for (int i = 0; i < taken; i++) {
            json.append(i == 0 ? "" : ",").append(frames.get(i));
        }
        json.append("],\"offset\":").append(last == null ? "null" : Codec.quote(last))
                .append(",\"resumed\":true}");
        return RestApi.ok(json.toString());
    }

    private static Response unavailable(Throwable t) {
        return Response.status(503).type(MediaType.APPLICATION_JSON)
                .entity(Codec.encode(new ServerMessage.Error(null, "internal", "the registry is unreachable; try again")))
                .build();
    }
}
