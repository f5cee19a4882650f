package dev.copresence.transport;

import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.mutiny.Uni;

import dev.copresence.flow.OutboundQueue;

/** An outbound queue's way to one WebSocket. */
final class SocketSink implements OutboundQueue.Sink {
    private final WebSocketConnection connection;
    private final SocketMetrics metrics;

    SocketSink(WebSocketConnection connection, SocketMetrics metrics) {
        this.connection = connection;
        this.metrics = metrics;
    }

    @Override
    public Uni<Void> write(String frame) {
        metrics.sent(frame);
        return connection.sendText(frame);
    }

    @Override
    public void close(int code, String reason) {
        if (connection.isOpen()) {
            connection.close(new CloseReason(code, reason)).subscribe().with(ok -> {
            }, failure -> {
            });
        }
    }
}
