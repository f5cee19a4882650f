package dev.copresence.transport;

import jakarta.inject.Singleton;

import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.vertx.core.http.HttpServerOptions;

/**
 * No WebSocket compression is negotiated, whatever a client offers. The server sends every frame
 * uncompressed (a fan-out hands every socket the same bytes), so compression would only inflate what
 * clients send: an inflater kept per connection for its life, and a small compressed frame inflated
 * in full before the message limit could refuse it (docs/security.md, "Compression").
 * {@code quarkus.websockets-next.server.per-message-compression-supported=false} declines
 * permessage-deflate; this declines the older per-frame drafts ({@code deflate-frame},
 * {@code x-webkit-deflate-frame}), which websockets-next leaves to Vert.x, where they are on.
 */
@Singleton
public final class NoWebSocketCompression implements HttpServerOptionsCustomizer {
    @Override
    public void customizeHttpServer(HttpServerOptions options) {
        decline(options);
    }

    @Override
    public void customizeHttpsServer(HttpServerOptions options) {
        decline(options);
    }

    @Override
    public void customizeDomainSocketServer(HttpServerOptions options) {
        decline(options);
    }

    private static void decline(HttpServerOptions options) {
        options.setPerFrameWebSocketCompressionSupported(false);
    }
}
