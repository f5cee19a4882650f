package dev.copresence.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.ChunkedResponse;
import dev.copresence.support.CompressionOnQuietStreams;

/**
 * HTTP compression on, even asked for event streams: a stream's chunks are written below the
 * compressor (transport/SseSink), so a stream must go out uncompressed, well-formed, to a reader
 * that asked for gzip (docs/protocol.md: event streams are never compressed).
 */
@QuarkusTest
@TestProfile(CompressionOnQuietStreams.class)
class SseCompressionTest {
    @TestHTTPResource("/")
    URI base;

    @Test
    void aReaderThatAsksForGzipGetsAnUncompressedWellFormedStream() throws Exception {
        try (ChunkedResponse stream = ChunkedResponse.get(base, "/sse/documents/compressed",
                "Accept: text/event-stream\r\nAccept-Encoding: gzip\r\n")) {
            assertNull(stream.header("Content-Encoding"), stream.head());
            BufferedReader lines = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
            assertEquals("event: members", next(lines, "event: "));
            HttpResponse<String> sent = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(base.resolve("/api/documents/compressed/broadcast"))
                            .POST(HttpRequest.BodyPublishers.ofString("{\"data\":{\"n\":7}}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, sent.statusCode(), sent.body());
            assertEquals("event: broadcast", next(lines, "event: "));
            String data = next(lines, "data: ");
            assertTrue(data.contains("\"n\":7"), data);
        }
    }

    /** The next line that starts with {@code prefix}, skipping the others (ids, heartbeats, blank lines). */
    private static String next(BufferedReader lines, String prefix) throws Exception {
        for (String line; (line = lines.readLine()) != null;) {
            if (line.startsWith(prefix)) {
                return line;
            }
        }
        throw new AssertionError("the stream ended before a line starting with " + prefix);
    }
}
