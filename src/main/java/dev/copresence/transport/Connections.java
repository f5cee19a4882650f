package dev.copresence.transport;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.mutiny.Uni;
import io.vertx.core.MultiMap;
import io.vertx.core.net.impl.ConnectionBase;

import dev.copresence.channel.CommandHandler;
import dev.copresence.channel.Membership;
import dev.copresence.channel.Session;
import dev.copresence.config.CopresenceConfig;
import dev.copresence.flow.InboundQueue;
import dev.copresence.flow.OutboundQueue;
import dev.copresence.flow.RateLimiter;
import dev.copresence.protocol.ClientMessage;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ErrorCode;
import dev.copresence.protocol.ProtocolException;
import dev.copresence.protocol.UserRef;
import dev.copresence.security.Tokens;

/**
 * The WebSocket side of a session's life, shared by both endpoints: open, each frame, close. The
 * endpoints take frames concurrently (websockets-next's concurrent mode); a connection's commands run
 * one at a time, in arrival order, in its session's inbound queue.
 */
@Singleton
public final class Connections {
    private static final Logger LOG = Logger.getLogger(Connections.class);

    private final Map<String, SocketSink> open = new ConcurrentHashMap<>();
    private final CommandHandler handler;
    private final Membership membership;
    private final CopresenceConfig config;
    private final SocketMetrics metrics;
    private final WriteBufferWaterMark waterMarks;
    /** {@code limits.rate} and {@code limits.burst}: each connection's messages, and its pings apart. */
    private final RateLimiter.Limit rateLimit;

    public Connections(CommandHandler handler, Membership membership, CopresenceConfig config, SocketMetrics metrics) {
        this.handler = handler;
        this.membership = membership;
        this.config = config;
        this.metrics = metrics;
        int socketBuffer = config.outbound().socketBuffer();
        this.waterMarks = new WriteBufferWaterMark(socketBuffer / 2, socketBuffer);
        this.rateLimit = new RateLimiter.Limit(config.limits().rate(), config.limits().burst());
        // before any socket: they are all opened here
        SocketSink.closeDeadline(IdleTimeouts.checkCloseDeadline(config.outbound().closeDeadline()), this::endAfterReset);
    }

    /** Opens a session; on the bound endpoint it also joins the document (resuming with {@code since}). */
    Uni<Void> open(WebSocketConnection connection, String boundDoc) {
        // what the upgrade check handed over is read once: nothing keeps it in the connection's user data
        ConnectionBase tcp = connection.userData().remove(UpgradeChecks.TCP);
        MultiMap upgradeHeaders = connection.userData().remove(UpgradeChecks.HEADERS);
        if (upgradeHeaders != null) {
            upgradeHeaders.clear(); // Vert.x's WebSocket keeps them; websockets-next has its own copy
        }
        // the frame decoder: text is checked as UTF-8 above it (Utf8Frames), or not at all
        ChannelHandlerContext decoder = tcp == null ? null : tcp.channelHandlerContext().pipeline().context(WebSocketFrameDecoder.class);
        if (decoder == null) { // every HTTP/1.1 upgrade has both: this is a Vert.x change the tests would catch
            LOG.errorf("connection %s: no TCP connection or frame decoder found below the WebSocket; closing it", connection.id());
            close(connection, 1011, "internal error");
            return Uni.createFrom().voidItem();
        }
        SocketSink socket = new SocketSink(connection, tcp, decoder, metrics, waterMarks, config.pingInterval().toNanos());
        // one replay or snapshot per document, as many as it may have documents, wait uncounted: a
        // client that asks for more without reading them fills its send buffer with them
        OutboundQueue out = new OutboundQueue(socket, metrics, config.limits().sendBuffer(), config.outbound().maxFrames(),
                config.outbound().ephemeralWriteDelay().toMillis(), config.limits().docsPerConnection());
        // a close goes through the queue: what was queued before it (the error that explains it) is sent first
        Session session = new Session(connection.id(), boundDoc, out, out::close,
                new RateLimiter(rateLimit),
                new InboundQueue(socket, config.limits().inboundPending(), config.limits().burst()));
        socket.attach(session);
        open.put(connection.id(), socket);
        socket.dropHttpIdleTimer(); // registered: the liveness tick now watches it
        UserRef user = connection.userData().remove(UpgradeChecks.USER);
        Tokens.Grant grant = connection.userData().remove(UpgradeChecks.GRANT);
        if (grant != null) {
            session.grant(grant);
        }
        Uni<Void> identified = user == null ? Uni.createFrom().voidItem() : membership.identify(session, user);
        // Counting the user online is the connection's first inbound task: the endpoints take messages
        // concurrently with the open, so without it a pong could overtake the count (docs/protocol.md).
        if (boundDoc == null) {
            session.inbound().offer(() -> identified);
            return Uni.createFrom().voidItem();
        }
        // On the bound endpoint the join on open follows it in the same task.
        String since = UpgradeChecks.queryParam(connection.handshakeRequest().query(), "since");
        session.inbound().offer(() -> identified
                .chain(() -> membership.join(session, new ClientMessage.Join(null, boundDoc, null, null, since)))
                .onFailure().recoverWithItem(failure -> {
                    membership.fail(session, null, failure);
                    session.close(closeCodeFor(failure), "could not join " + boundDoc);
                    return null;
                }));
        return Uni.createFrom().voidItem();
    }

    /** Close code of a bound connection whose join on open failed. */
    private static int closeCodeFor(Throwable failure) {
        if (failure instanceof ProtocolException p) {
            if (p.code() == ErrorCode.FORBIDDEN) {
                return 4403;
            }
            if (p.code() == ErrorCode.DOC_FULL) {
                return 1013;
            }
            return 1008;
        }
        return 1011;
    }

    /** A text message, checked for UTF-8 on its bytes by {@link Utf8Frames} before Vert.x decoded it. */
    void text(WebSocketConnection connection, String text) {
        Session session = session(connection);
        if (session == null) {
            return;
        }
        session.touch();
        if (!session.inbound().offer(() -> process(session, text))) {
            metrics.rejected("inbound_full");
            membership.report(session, new ProtocolException(ErrorCode.RATE_LIMITED,
                    "too many messages waiting to be processed; this one was not applied", idOf(text)));
        }
    }

    /**
     * The id of a message refused unprocessed, which the contract echoes in its error: read as the
     * message would have been (a message's parse is what processing it would have cost anyway).
     */
    private static JsonNode idOf(String text) {
        try {
            return Utf8Frames.markedInvalid(text) ? null : Codec.decode(text).id();
        } catch (ProtocolException e) {
            return e.id();
        }
    }

    private Uni<Void> process(Session session, String text) {
        if (Utf8Frames.markedInvalid(text)) {
            session.close(1007, "text frame is not valid UTF-8");
            return Uni.createFrom().voidItem();
        }
        ClientMessage message;
        try {
            message = Codec.decode(text);
        } catch (ProtocolException e) {
            membership.report(session, e);
            return Uni.createFrom().voidItem();
        }
        metrics.received(message);
        if (!session.rate().tryAcquire()) {
            metrics.rejected("rate_limited");
            membership.report(session, new ProtocolException(ErrorCode.RATE_LIMITED,
                    "over " + config.limits().rate() + " messages per second; this message was not applied", message.id()));
            if (session.rate().abusive()) {
                session.close(1008, "rate limit exceeded persistently");
            }
            return Uni.createFrom().voidItem();
        }
        return handler.handle(session, message);
    }

    void binary(WebSocketConnection connection) {
        Session session = session(connection);
        if (session != null) {
            session.touch();
            membership.report(session, ProtocolException.badRequest("binary frames are not supported: send JSON in text frames"));
        }
    }

    /** A pong, the answer to one of the server's pings: something heard from the client. */
    void pong(WebSocketConnection connection) {
        Session session = session(connection);
        if (session != null) {
            session.touch();
        }
    }

    /**
     * A ping of the client's own: something heard from it, which Vert.x has answered with a pong
     * already, and which a client that reads nothing would let pile up in the node without bound
     * (one client, 300,000 pings in 8.5 s: up to 32 MiB of pongs held, peak RSS up 174 MiB;
     * docs/security.md). So pings have a rate limit of their own, whose persistent flood closes with
     * 1008, and once they keep arriving behind a full socket the client is not read until what was
     * written has left.
     */
    void ping(WebSocketConnection connection) {
        SocketSink socket = open.get(connection.id());
        if (socket == null) {
            return;
        }
        Session session = socket.session();
        session.touch();
        ClientPings pings = socket.clientPings(() -> new ClientPings(rateLimit));
        if (!pings.withinRate()) {
            metrics.rejected("ping_rate_limited");
            if (pings.flooding()) {
                session.close(1008, "pings over the rate limit persistently");
            }
        }
        if (pings.pileUp(socket.writable())) {
            session.inbound().holdReading(socket::whenFlushed);
        }
    }

    private Session session(WebSocketConnection connection) {
        SocketSink socket = open.get(connection.id());
        return socket == null ? null : socket.session();
    }

    /** A socket reset at its close deadline: its session ends now, and the endpoint's later close finds nothing. */
    private void endAfterReset(WebSocketConnection connection) {
        closed(connection).subscribe().with(v -> {
        }, failure -> LOG.warnf(failure, "connection %s: ending its session after a reset failed", connection.id()));
    }

    Uni<Void> closed(WebSocketConnection connection) {
        SocketSink socket = open.remove(connection.id());
        if (socket == null) {
            return Uni.createFrom().voidItem();
        }
        // a close the client began is answered with a frame that may wait behind what it did not read
        socket.closeWithinDeadline();
        return membership.closed(socket.session());
    }

    /**
     * Vert.x reports a message that outgrows the message limit (over several frames) as a failure
     * and keeps the socket open; the contract closes it with 1009. (A single oversized frame is
     * refused by Netty's decoder from its header, and {@link Utf8Frames} closes with 1009.)
     */
    void failed(WebSocketConnection connection, Throwable failure) {
        String message = failure.getMessage();
        if (failure instanceof IllegalStateException && message != null && message.contains("max message size")) {
            Session session = session(connection);
            String reason = "message over " + config.limits().messageSize() + " bytes";
            if (session != null) {
                session.close(1009, reason); // through its queue: nothing is written after the close frame
            } else {
                close(connection, 1009, reason);
            }
            return;
        }
        LOG.debugf("connection %s: %s", connection.id(), failure.toString());
    }

    /** Closes the WebSocket unless it is closed already; the outcome is the close handler's business. */
    static void close(WebSocketConnection connection, int code, String reason) {
        if (connection.isOpen()) {
            connection.close(closeReason(code, reason)).subscribe().with(ok -> {
            }, failure -> {
            });
        }
    }

    static final int MAX_CLOSE_REASON_BYTES = 123;

    /**
     * A close frame's payload is at most 125 bytes (RFC 6455 §5.5), its code two of them, and nothing
     * below checks: a longer reason (one naming a 128-character document) made a frame browsers fail
     * the connection for, reporting 1006 instead of the code. So the reason is cut to fit.
     */
    static CloseReason closeReason(int code, String reason) {
        if (reason == null) {
            return new CloseReason(code);
        }
        byte[] utf8 = reason.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= MAX_CLOSE_REASON_BYTES) {
            return new CloseReason(code, reason);
        }
        int end = MAX_CLOSE_REASON_BYTES;
        while ((utf8[end] & 0xC0) == 0x80) { // not in the middle of a character
            end--;
        }
        return new CloseReason(code, new String(utf8, 0, end, StandardCharsets.UTF_8));
    }

    /**
     * Closes every connection and completes once the close frames are written (for the drain). What
     * is still queued is dropped, so that nothing follows a close frame: the client resumes elsewhere.
     */
    Uni<Void> closeAll(int code, String reason) {
        open.values().forEach(socket -> socket.session().out().discard());
        List<Uni<Void>> closes = new java.util.ArrayList<>();
        for (SocketSink socket : open.values()) {
            WebSocketConnection connection = socket.connection();
            if (connection.isOpen()) {
                closes.add(connection.close(closeReason(code, reason)).onFailure().recoverWithNull());
            }
        }
        return closes.isEmpty() ? Uni.createFrom().voidItem() : Uni.join().all(closes).andFailFast().replaceWithVoid();
    }

    /** The open connections, as they come (a live view: no copy per liveness tick). */
    Collection<SocketSink> open() {
        return open.values();
    }

    public List<Session> sessions() {
        return open.values().stream().map(SocketSink::session).toList();
    }

    public int count() {
        return open.size();
    }
}
