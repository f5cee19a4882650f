package dev.copresence.transport;

import java.util.List;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;

import org.jboss.resteasy.reactive.RestStreamElementType;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.BackPressureFailure;
import io.smallrye.mutiny.subscription.MultiEmitter;
import io.vertx.core.Vertx;

import dev.copresence.channel.Hubs;
import dev.copresence.channel.Observer;
import dev.copresence.channel.StatusObserver;
import dev.copresence.config.CopresenceConfig;
import dev.copresence.engine.DocEvent;
import dev.copresence.engine.Engine;
import dev.copresence.engine.Snapshot;
import dev.copresence.engine.UserStatus;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.Ids;
import dev.copresence.protocol.ProtocolException;
import dev.copresence.protocol.ServerMessage;
import dev.copresence.security.Access;

/**
 * Server-Sent Events: a read-only observer of one document, or of some users' online status. Each
 * stream is subscribed before it reads its opening (snapshot or replay), so nothing is missed between
 * the two, and is bounded: a reader that falls behind by more than {@code copresence.sse.buffer}
 * events has its stream ended, and its {@code EventSource} reconnects with {@code Last-Event-ID}.
 */
@Path("/sse")
public class SseApi {
    private final Engine engine;
    private final Hubs hubs;
    private final Access access;
    private final Vertx vertx;
    private final long heartbeatMillis;
    private final int buffer;

    public SseApi(Engine engine, Hubs hubs, Access access, Vertx vertx, CopresenceConfig config) {
        this.engine = engine;
        this.hubs = hubs;
        this.access = access;
        this.vertx = vertx;
        this.heartbeatMillis = Math.max(1, config.sse().heartbeat().toMillis());
        this.buffer = config.sse().buffer();
    }

    @GET
    @Path("/documents/{doc}")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.TEXT_PLAIN)
    public Multi<OutboundSseEvent> document(@PathParam("doc") String doc, @HeaderParam("Last-Event-ID") String header,
            @QueryParam("lastEventId") String query, @HeaderParam("Origin") String origin, @Context Sse sse) {
        HttpChecks.origin(access, origin);
        try {
            Ids.requireDoc(doc);
        } catch (ProtocolException e) {
            throw HttpChecks.refuse(e);
        }
        String since = HttpChecks.offset(header != null && !header.isEmpty() ? header : query, "Last-Event-ID");
        return bounded(sse, emitter -> {
            Observer observer = new Observer(doc, event -> emitter.emit(event(sse, event)), emitter::complete);
            emitter.onTermination(() -> hubs.unobserve(observer));
            hubs.observe(observer)
                    .chain(() -> opening(sse, doc, since))
                    .subscribe().with(opening -> {
                        opening.events().forEach(emitter::emit);
                        observer.activate(opening.offset());
                    }, emitter::fail);
        });
    }

    private record Opening(List<OutboundSseEvent> events, String offset) {
    }

    /**
     * What a stream opens with: the members, or the events after {@code Last-Event-ID} (up to the end of
     * the log: unlike a join, no event of its own marks where the snapshot ends) when it can resume.
     */
    private Uni<Opening> opening(Sse sse, String doc, String since) {
        if (since == null) {
            return engine.registry().snapshot(doc).map(snapshot -> members(sse, doc, snapshot));
        }
        return engine.log().readAfter(doc, since, null).chain(replay -> {
            if (!replay.resumed()) {
                return engine.registry().snapshot(doc).map(snapshot -> members(sse, doc, snapshot));
            }
            List<OutboundSseEvent> events = replay.frames().stream()
                    .map(frame -> durable(sse, frame, EventFrames.offset(frame))).toList();
            return Uni.createFrom().item(new Opening(events, replay.offset()));
        });
    }

    private static Opening members(Sse sse, String doc, Snapshot snapshot) {
        String frame = Codec.encode(new ServerMessage.Members(doc, snapshot.members(), snapshot.offset()));
        return new Opening(List.of(durable(sse, frame, snapshot.offset())), snapshot.offset());
    }

    @GET
    @Path("/status")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.TEXT_PLAIN)
    public Multi<OutboundSseEvent> status(@QueryParam("users") String users, @HeaderParam("Origin") String origin,
            @Context Sse sse) {
        HttpChecks.origin(access, origin);
        List<String> ids;
        try {
            ids = RestApi.parseUsers(users);
        } catch (ProtocolException e) {
            throw HttpChecks.refuse(e);
        }
        return bounded(sse, emitter -> {
            StatusObserver observer = new StatusObserver(ids, s -> emitter.emit(status(sse, s)));
            emitter.onTermination(() -> hubs.unobserveStatus(observer));
            hubs.observeStatus(observer);
            engine.registry().status(ids).subscribe().with(observer::activate, emitter::fail);
        });
    }

    private interface Opener {
        void open(MultiEmitter<? super OutboundSseEvent> emitter);
    }

    /**
     * One stream: its events, a heartbeat comment, and a bound on what waits for a slow reader. Past the
     * bound the stream completes instead of failing: for the reader it is a reconnect, not an error.
     */
    private Multi<OutboundSseEvent> bounded(Sse sse, Opener opener) {
        return Multi.createFrom().<OutboundSseEvent>emitter(emitter -> {
            long timer = vertx.setPeriodic(heartbeatMillis, id -> emitter.emit(sse.newEventBuilder().comment("heartbeat").build()));
            emitter.onTermination(() -> vertx.cancelTimer(timer));
            opener.open(emitter);
        }, buffer).onFailure(BackPressureFailure.class).recoverWithCompletion();
    }

    private static OutboundSseEvent event(Sse sse, DocEvent event) {
        if (event.kind().durable()) {
            return durable(sse, event.frame(), event.offset());
        }
        return sse.newEventBuilder().name(EventFrames.type(event.frame()))
                .data(String.class, event.frame()).build();
    }

    private static OutboundSseEvent durable(Sse sse, String frame, String offset) {
        OutboundSseEvent.Builder builder = sse.newEventBuilder().name(EventFrames.type(frame))
                .data(String.class, frame);
        if (offset != null) {
            builder.id(offset);
        }
        return builder.build();
    }

    private static OutboundSseEvent status(Sse sse, UserStatus s) {
        return sse.newEventBuilder().name("status")
                .data(String.class, Codec.encode(new ServerMessage.Status(s.user(), s.online(), s.lastSeen())))
                .build();
    }
}
