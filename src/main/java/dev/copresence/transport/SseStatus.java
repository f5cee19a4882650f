package dev.copresence.transport;

import java.util.List;

import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import dev.copresence.channel.StatusObserver;
import dev.copresence.channel.StatusWatchers;
import dev.copresence.engine.Engine;
import dev.copresence.engine.UserStatus;
import dev.copresence.flow.Frame;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ErrorCode;
import dev.copresence.protocol.ProtocolException;
import dev.copresence.security.HttpGuard;

/**
 * {@code GET /sse/status?users=u1,u2}: some users' online status as Server-Sent Events, the current
 * {@code status} of each, then each change. The stream is subscribed before it reads the current
 * status, so no change is missed between the two. It is served like a document's stream
 * ({@link SseStream}) rather than through JAX-RS, whose open streaming request and emitter buffer
 * held about 16 KB for as long as a reader (an online indicator, open all day) kept it.
 */
@Singleton
public final class SseStatus {
    private final Engine engine;
    private final StatusWatchers statusWatchers;
    private final SseStreams streams;

    public SseStatus(Engine engine, StatusWatchers statusWatchers, SseStreams streams) {
        this.engine = engine;
        this.statusWatchers = statusWatchers;
        this.streams = streams;
    }

    void route(@Observes Router router) {
        router.get("/sse/status").handler(this::open);
    }

    private void open(RoutingContext context) {
        HttpServerRequest request = context.request();
        HttpGuard.Verdict verdict = streams.admit(request, "/sse/status");
        if (verdict.refused()) {
            return;
        }
        List<String> users;
        try {
            users = RestApi.parseUsers(request.getParam("users"));
        } catch (ProtocolException e) {
            SseStream.refuse(request.response(), new HttpGuard.Refusal(400, e.code(), e.getMessage()));
            return;
        }
        for (String user : users) {
            if (!verdict.watchable().allows(user)) {
                SseStream.refuse(request.response(),
                        new HttpGuard.Refusal(403, ErrorCode.FORBIDDEN, "this token does not allow watching user " + user));
                return;
            }
        }
        SseStream stream = streams.open(request, verdict.feedExpiresAt());
        StatusObserver observer = new StatusObserver(users, status -> stream.offer(event(status)));
        stream.onEnd(() -> statusWatchers.unobserveStatus(observer));
        statusWatchers.observeStatus(observer);
        engine.registry().status(users).subscribe().with(current -> statusWatchers.answerObserver(observer, current),
                failure -> stream.fail(new HttpGuard.Refusal(503, ErrorCode.INTERNAL, "the registry is unavailable")));
    }

    private static Frame event(UserStatus s) {
        return SseStream.event("status", null, Codec.encode(s.message()));
    }
}
