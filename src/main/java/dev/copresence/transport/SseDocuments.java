package dev.copresence.transport;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import com.fasterxml.jackson.databind.JsonNode;

import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import dev.copresence.channel.Hubs;
import dev.copresence.channel.Observer;
import dev.copresence.config.CopresenceConfig;
import dev.copresence.engine.DocEvent;
import dev.copresence.engine.Engine;
import dev.copresence.engine.Snapshot;
import dev.copresence.flow.Frame;
import dev.copresence.flow.OutboundQueue;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ErrorCode;
import dev.copresence.protocol.Ids;
import dev.copresence.protocol.ProtocolException;
import dev.copresence.protocol.ServerMessage;
import dev.copresence.security.Access;
import dev.copresence.security.HttpGuard;

/**
 * {@code GET /sse/documents/{doc}}: a read-only observer of one document as Server-Sent Events. It is
 * the fan-out path for readers that are not members (dashboards, thousands of viewers), so it is
 * written on Vert.x directly rather than through JAX-RS: each event is encoded as an SSE event once,
 * for every stream, and each stream has the WebSocket's bounded {@link OutboundQueue}, which writes
 * what is queued as one chunk. The stream is subscribed before it reads its opening (the members, or
 * the events after {@code Last-Event-ID}), so nothing is missed between the two; a reader that falls
 * more than {@code copresence.sse.buffer} events or {@code limits.send-buffer} characters behind
 * has its stream ended, and its {@code EventSource} reconnects with {@code Last-Event-ID}.
 */
@Singleton
public final class SseDocuments {
    private static final Frame HEARTBEAT = Frame.httpChunk(": heartbeat\n\n");

    private final Engine engine;
    private final Hubs hubs;
    private final Access access;
    private final Vertx vertx;
    private final CopresenceConfig config;
    private final long heartbeatMillis;
    /**
     * A stream written to within half the period needs no comment to keep proxies from closing it:
     * under a fan-out that spares every stream a write (and a system call) per period; a quiet stream
     * still hears one at least every period and a half.
     */
    private final long heartbeatAfterQuietNanos;

    public SseDocuments(Engine engine, Hubs hubs, Access access, Vertx vertx, CopresenceConfig config) {
        this.engine = engine;
        this.hubs = hubs;
        this.access = access;
        this.vertx = vertx;
        this.config = config;
        this.heartbeatMillis = Math.max(1, config.sse().heartbeat().toMillis());
        this.heartbeatAfterQuietNanos = TimeUnit.MILLISECONDS.toNanos(heartbeatMillis) / 2;
    }

    void route(@Observes Router router) {
        router.get("/sse/documents/:doc").handler(this::open);
    }

    private void open(RoutingContext context) {
        HttpServerRequest request = context.request();
        String doc = context.pathParam("doc");
        Optional<HttpGuard.Refusal> refused = HttpGuard.check(access, "/sse/documents/" + doc,
                request.getHeader("Origin"), request.getHeader("Authorization"), request.getParam("access_token"));
        if (refused.isPresent()) {
            refuse(request.response(), refused.get());
            return;
        }
        String header = request.getHeader("Last-Event-ID");
        String since;
        try {
            Ids.requireDoc(doc);
            since = HttpChecks.offset(header != null && !header.isEmpty() ? header : request.getParam("lastEventId"),
                    "Last-Event-ID");
        } catch (ProtocolException e) {
            refuse(request.response(), new HttpGuard.Refusal(400, e.code(), e.getMessage()));
            return;
        }
        stream(request.response(), new SseSink(request), doc, since);
    }

    private void stream(HttpServerResponse response, SseSink sink, String doc, String since) {
        OutboundQueue out = new OutboundQueue(sink, OutboundQueue.Listener.NONE, config.limits().sendBuffer(),
                config.sse().buffer());
        // an event's SSE form is made once for every stream of the document, and shared off-heap by them
        Observer observer = new Observer(doc, (event, frame) -> out.offer(frame.derived(f -> event(event, f).shared()), null),
                () -> out.close(OutboundQueue.SLOW_CONSUMER, "slow reader"));
        long heartbeat = vertx.setPeriodic(heartbeatMillis, id -> {
            if (sink.quietFor(heartbeatAfterQuietNanos)) {
                out.offer(HEARTBEAT, null);
            }
        });
        // the reader went away, or the server ended the stream (a slow reader) on a connection kept alive
        Runnable gone = () -> {
            vertx.cancelTimer(heartbeat);
            hubs.unobserve(observer);
            out.discard();
        };
        response.closeHandler(v -> gone.run());
        response.endHandler(v -> gone.run());
        response.setChunked(true)
                .putHeader("Content-Type", "text/event-stream")
                .putHeader("Cache-Control", "no-cache")
                .putHeader("X-Accel-Buffering", "no");
        hubs.observe(observer)
                .chain(() -> opening(doc, since))
                .subscribe().with(opening -> {
                    opening.frames().forEach(frame -> out.offer(frame, null));
                    observer.activate(opening.offset());
                }, failure -> {
                    gone.run();
                    refuse(response, new HttpGuard.Refusal(503, ErrorCode.INTERNAL, "the registry is unavailable"));
                });
    }

    private record Opening(List<Frame> frames, String offset) {
    }

    /**
     * What a stream opens with: the members, or the events after {@code Last-Event-ID} (up to the end of
     * the log: unlike a join, no event of its own marks where the snapshot ends) when it can resume.
     */
    private Uni<Opening> opening(String doc, String since) {
        if (since == null) {
            return engine.registry().snapshot(doc).map(snapshot -> members(doc, snapshot));
        }
        return engine.log().readAfter(doc, since, null).chain(replay -> {
            if (!replay.resumed()) {
                return engine.registry().snapshot(doc).map(snapshot -> members(doc, snapshot));
            }
            List<Frame> frames = replay.frames().stream()
                    .map(frame -> event(Codec.type(frame), offsetOf(frame), frame)).toList();
            return Uni.createFrom().item(new Opening(frames, replay.offset()));
        });
    }

    /** The offset of a replayed frame: replays carry frames only, their offset is inside. */
    private static String offsetOf(String frame) {
        JsonNode json = Codec.readTreeOrNull(frame);
        return json == null || !json.hasNonNull("offset") ? null : json.get("offset").asText();
    }

    private static Opening members(String doc, Snapshot snapshot) {
        String frame = Codec.encode(new ServerMessage.Members(doc, snapshot.members(), snapshot.offset()));
        return new Opening(List.of(event("members", snapshot.offset(), frame)), snapshot.offset());
    }

    private static Frame event(DocEvent event, Frame frame) {
        return event(frame.type(), event.kind().durable() ? event.offset() : null, frame.text());
    }

    /**
     * One SSE event, as the HTTP chunk a stream writes ({@link SseSink}): durable events carry their
     * offset as {@code id}. JSON has no raw newline: one data line.
     */
    static Frame event(String type, String offset, String json) {
        StringBuilder sse = new StringBuilder(json.length() + type.length() + 40);
        if (offset != null) {
            sse.append("id: ").append(offset).append('\n');
        }
        return Frame.httpChunk(sse.append("event: ").append(type).append("\ndata: ").append(json).append("\n\n").toString());
    }

    private static void refuse(HttpServerResponse response, HttpGuard.Refusal refusal) {
        if (response.headWritten()) {
            if (!response.ended()) {
                response.end();
            }
            return;
        }
        response.setStatusCode(refusal.status()).putHeader("Content-Type", "application/json").end(refusal.json());
    }
}
