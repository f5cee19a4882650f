package dev.copresence.transport;

import java.util.List;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import dev.copresence.channel.Hubs;
import dev.copresence.channel.Observer;
import dev.copresence.engine.DocEvent;
import dev.copresence.engine.Engine;
import dev.copresence.engine.Snapshot;
import dev.copresence.flow.Frame;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ErrorCode;
import dev.copresence.protocol.Ids;
import dev.copresence.protocol.Member;
import dev.copresence.protocol.ProtocolException;
import dev.copresence.protocol.ServerMessage;
import dev.copresence.security.HttpGuard;

/**
 * {@code GET /sse/documents/{doc}}: a read-only observer of one document as Server-Sent Events. It is
 * the fan-out path for readers that are not members (dashboards, thousands of viewers), so it is
 * written on Vert.x directly rather than through JAX-RS ({@link SseStream}): each event is encoded as
 * an SSE event once, for every stream. The stream is subscribed before it reads its opening (the
 * members, or the events after {@code Last-Event-ID}), so nothing is missed between the two; a reader
 * that falls behind has its stream ended, and its {@code EventSource} reconnects with
 * {@code Last-Event-ID}.
 */
@Singleton
public final class SseDocuments {
    private final Engine engine;
    private final Hubs hubs;
    private final SseStreams streams;

    public SseDocuments(Engine engine, Hubs hubs, SseStreams streams) {
        this.engine = engine;
        this.hubs = hubs;
        this.streams = streams;
    }

    void route(@Observes Router router) {
        router.get("/sse/documents/:doc").handler(this::open);
    }

    private void open(RoutingContext context) {
        HttpServerRequest request = context.request();
        String doc = context.pathParam("doc");
        HttpGuard.Verdict verdict = streams.admit(request, "/sse/documents/" + doc);
        if (verdict.refused()) {
            return;
        }
        String header = request.getHeader("Last-Event-ID");
        String since;
        try {
            Ids.requireDoc(doc);
            since = HttpChecks.offset(header != null && !header.isEmpty() ? header : request.getParam("lastEventId"));
        } catch (ProtocolException e) {
            SseStream.refuse(request.response(), new HttpGuard.Refusal(400, e.code(), e.getMessage()));
            return;
        }
        stream(request, verdict.feedExpiresAt(), doc, since);
    }

    private void stream(HttpServerRequest request, long expiresAt, String doc, String since) {
        SseStream stream = streams.open(request, expiresAt);
        // an event's SSE form is made once for every stream of the document, and shared off-heap by them
        Observer observer = new Observer(doc, (event, frame) -> stream.offer(frame.derived(f -> event(event, f).shared())),
                stream::endSlow);
        stream.onEnd(() -> hubs.unobserve(observer));
        hubs.observe(observer)
                .chain(() -> opening(doc, since))
                .subscribe().with(opening -> {
                    stream.open(doc, opening.frames());
                    if (opening.frames().isEmpty()) { // resumed, with nothing newer: the head goes out all the same
                        stream.start();
                    }
                    observer.activate(opening.offset(), opening.members());
                }, failure -> stream.fail(new HttpGuard.Refusal(503, ErrorCode.INTERNAL, "the registry is unavailable")));
    }

    /** {@code members}: the ids of the member list it opens with, or null when it resumes instead. */
    private record Opening(List<Frame> frames, String offset, List<String> members) {
    }

    /**
     * What a stream opens with: the members, or the events after {@code Last-Event-ID} (up to the end of
     * the log: unlike a join, no event of its own marks where the snapshot ends) when it can resume.
     */
    private Uni<Opening> opening(String doc, String since) {
        if (since == null) {
            return members(doc);
        }
        return engine.log().readAfter(doc, since, null).chain(replay -> {
            if (!replay.resumed()) {
                return members(doc);
            }
            hubs.learnMembers(doc);
            List<Frame> frames = replay.frames().stream()
                    .map(frame -> SseStream.event(Codec.type(frame), Codec.offsetOf(frame), frame)).toList();
            return Uni.createFrom().item(new Opening(frames, replay.offset(), null));
        });
    }

    /** The members, read while the hub notes changes: it knows what the stream was shown (after a gap, only changes go out). */
    private Uni<Opening> members(String doc) {
        return hubs.readShown(doc, () -> engine.registry().snapshot(doc)).map(snapshot -> members(doc, snapshot));
    }

    private static Opening members(String doc, Snapshot snapshot) {
        String frame = Codec.encode(new ServerMessage.Members(doc, snapshot.members(), snapshot.offset()));
        return new Opening(List.of(SseStream.event("members", snapshot.offset(), frame)), snapshot.offset(),
                snapshot.members().stream().map(Member::id).toList());
    }

    private static Frame event(DocEvent event, Frame frame) {
        return SseStream.event(frame.type(), event.kind().durable() ? event.offset() : null, frame.text());
    }
}
