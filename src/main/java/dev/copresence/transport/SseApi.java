package dev.copresence.transport;

import java.util.List;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;

import org.jboss.resteasy.reactive.RestStreamElementType;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.BackPressureFailure;
import io.vertx.core.Vertx;

import dev.copresence.channel.StatusObserver;
import dev.copresence.channel.StatusWatchers;
import dev.copresence.config.CopresenceConfig;
import dev.copresence.engine.Engine;
import dev.copresence.engine.UserStatus;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ProtocolException;
import dev.copresence.protocol.ServerMessage;

/**
 * Server-Sent Events of some users' online status ({@code /sse/status}). The stream is subscribed
 * before it reads the current status, so no change is missed between the two, and is bounded: a
 * reader that falls behind by more than {@code copresence.sse.buffer} events has its stream ended.
 * (The document stream, a fan-out path, is {@link SseDocuments}.)
 */
@Path("/sse")
public class SseApi {
    private final Engine engine;
    private final StatusWatchers statusWatchers;
    private final Vertx vertx;
    private final long heartbeatMillis;
    private final int buffer;

    public SseApi(Engine engine, StatusWatchers statusWatchers, Vertx vertx, CopresenceConfig config) {
        this.engine = engine;
        this.statusWatchers = statusWatchers;
        this.vertx = vertx;
        this.heartbeatMillis = Math.max(1, config.sse().heartbeat().toMillis());
        this.buffer = config.sse().buffer();
    }

    @GET
    @Path("/status")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.TEXT_PLAIN)
    public Multi<OutboundSseEvent> status(@QueryParam("users") String users, @Context Sse sse) {
        List<String> ids;
        try {
            ids = RestApi.parseUsers(users);
        } catch (ProtocolException e) {
            throw HttpChecks.refuse(e);
        }
        // events, a heartbeat comment, and a bound on what waits for a slow reader; past the bound the
        // stream completes instead of failing: for the reader it is a reconnect, not an error
        return Multi.createFrom().<OutboundSseEvent>emitter(emitter -> {
            long timer = vertx.setPeriodic(heartbeatMillis, id -> emitter.emit(sse.newEventBuilder().comment("heartbeat").build()));
            StatusObserver observer = new StatusObserver(ids, s -> emitter.emit(status(sse, s)));
            emitter.onTermination(() -> {
                vertx.cancelTimer(timer);
                statusWatchers.unobserveStatus(observer);
            });
            statusWatchers.observeStatus(observer);
            engine.registry().status(ids).subscribe().with(observer::activate, emitter::fail);
        }, buffer).onFailure(BackPressureFailure.class).recoverWithCompletion();
    }

    private static OutboundSseEvent status(Sse sse, UserStatus s) {
        return sse.newEventBuilder().name("status")
                .data(String.class, Codec.encode(new ServerMessage.Status(s.user(), s.online(), s.lastSeen())))
                .build();
    }
}
