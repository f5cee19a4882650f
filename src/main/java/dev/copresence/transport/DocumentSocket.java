package dev.copresence.transport;

import io.quarkus.websockets.next.InboundProcessingMode;
import io.quarkus.websockets.next.OnBinaryMessage;
import io.quarkus.websockets.next.OnClose;
import io.quarkus.websockets.next.OnError;
import io.quarkus.websockets.next.OnOpen;
import io.quarkus.websockets.next.OnPingMessage;
import io.quarkus.websockets.next.OnPongMessage;
import io.quarkus.websockets.next.OnTextMessage;
import io.quarkus.websockets.next.PathParam;
import io.quarkus.websockets.next.WebSocket;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.common.annotation.NonBlocking;
import io.smallrye.mutiny.Uni;
import io.vertx.core.buffer.Buffer;

/** {@code GET /ws/documents/{doc}}: bound to one document, joined on open ({@code doc} may be left out). */
@WebSocket(path = "/ws/documents/{doc}", inboundProcessingMode = InboundProcessingMode.CONCURRENT)
public class DocumentSocket {
    private final Connections connections;

    public DocumentSocket(Connections connections) {
        this.connections = connections;
    }

    @OnOpen
    Uni<Void> open(WebSocketConnection connection, @PathParam String doc) {
        return connections.open(connection, doc);
    }

    // Non-blocking: runs on the connection's event loop, so frames reach the inbound queue in arrival order.
    @OnTextMessage
    @NonBlocking
    void text(WebSocketConnection connection, String text) {
        connections.text(connection, text);
    }

    @OnBinaryMessage
    @NonBlocking
    void binary(WebSocketConnection connection, Buffer ignored) {
        connections.binary(connection);
    }

    @OnPongMessage
    @NonBlocking
    void pong(WebSocketConnection connection, Buffer ignored) {
        connections.pong(connection);
    }

    /** A client's own ping: heard from it, and counted (Vert.x answers it with a pong by itself). */
    @OnPingMessage
    @NonBlocking
    void ping(WebSocketConnection connection, Buffer ignored) {
        connections.ping(connection);
    }

    @OnClose
    Uni<Void> close(WebSocketConnection connection) {
        return connections.closed(connection);
    }

    @OnError
    @NonBlocking
    void error(WebSocketConnection connection, Throwable failure) {
        connections.failed(connection, failure);
    }
}
