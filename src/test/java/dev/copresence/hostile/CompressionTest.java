package dev.copresence.hostile;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.oneOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.Deflater;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

import dev.copresence.support.RawWebSocket;

/**
 * WebSocket compression is declined, permessage-deflate (RFC 7692, which every browser offers) and
 * the older per-frame drafts alike: a connection that negotiated it would keep an inflater on the
 * server for its life, and inflate whatever a client compressed before the message limit could
 * refuse it.
 */
@QuarkusTest
class CompressionTest {
    private static final Map<String, String> OFFER = Map.of("Sec-WebSocket-Extensions",
            "permessage-deflate; client_max_window_bits");

    @TestHTTPResource("/")
    URI base;

    @ParameterizedTest
    @ValueSource(strings = { "permessage-deflate; client_max_window_bits", "x-webkit-deflate-frame", "deflate-frame" })
    void aClientOfferingCompressionGetsAnUncompressedConnection(String offer) {
        try (RawWebSocket ws = RawWebSocket.connect(base, "/ws?user=ada", Map.of("Sec-WebSocket-Extensions", offer))) {
            assertEquals(101, ws.status());
            assertFalse(ws.headers().containsKey("sec-websocket-extensions"), () -> "negotiated " + ws.headers());
            ws.text("{\"type\":\"ping\",\"id\":\"p1\"}");
            assertEquals("{\"type\":\"pong\",\"id\":\"p1\"}", ws.nextText());
        }
    }

    @Test
    void aCompressedFrameEndsTheConnectionWithoutBeingInflated() {
        // 8 MiB of JSON that deflates to a few KiB: were it inflated, the message limit (64 KiB) would
        // refuse it with 1009 only once the whole of it was in memory
        String padding = "x".repeat(8 * 1024 * 1024);
        byte[] bomb = deflate(("{\"type\":\"ping\",\"id\":\"p\",\"pad\":\"" + padding + "\"}").getBytes(StandardCharsets.UTF_8));
        assertTrue(bomb.length < 65536, "a single frame: " + bomb.length);
        try (RawWebSocket ws = RawWebSocket.connect(base, "/ws?user=mallory", OFFER)) {
            assertEquals(101, ws.status());
            ws.compressedText(bomb);
            // RFC 6455 5.2: RSV1 without an extension that defines it fails the connection (a 1009
            // would mean the server had inflated it)
            assertThat(ws.awaitClose(), oneOf(1002, RawWebSocket.NO_CLOSE_FRAME));
        }
        try (RawWebSocket next = RawWebSocket.connect(base, "/ws?user=ada", OFFER)) {
            next.text("{\"type\":\"ping\",\"id\":\"p2\"}");
            assertEquals("{\"type\":\"pong\",\"id\":\"p2\"}", next.nextText());
        }
    }

    /** A permessage-deflate payload: raw deflate, sync-flushed, without the flush's last four bytes (RFC 7692 7.2.1). */
    private static byte[] deflate(byte[] message) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
        deflater.setInput(message);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] chunk = new byte[64 * 1024];
        int n;
        do { // a full buffer means more to flush
            n = deflater.deflate(chunk, 0, chunk.length, Deflater.SYNC_FLUSH);
            out.write(chunk, 0, n);
        } while (n == chunk.length);
        deflater.end();
        byte[] flushed = out.toByteArray();
        return Arrays.copyOf(flushed, flushed.length - 4);
    }
}
