package dev.copresence.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.net.URI;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

import dev.copresence.support.CompressionOnQuietStreams;
import dev.copresence.support.RestBroadcast;
import dev.copresence.support.SseClient;

/**
 * "The response starts once the stream is subscribed": also for a reader that resumes with a
 * {@code Last-Event-ID} after which nothing happened yet, whose stream opens with no event. With the
 * first heartbeat at least 30 s away, only the start of the stream itself can answer it in time.
 */
@QuarkusTest
@TestProfile(CompressionOnQuietStreams.class)
class SseResumeTest {
    @TestHTTPResource("/")
    URI base;

    @Test
    void aReaderUpToDateWithItsLastEventIdIsAnsweredAtOnceAndHearsWhatFollows() throws Exception {
        String last = RestBroadcast.send(base, "sse-resume", "{\"n\":1}");
        SseClient stream = CompletableFuture
                .supplyAsync(() -> SseClient.open(base.resolve("/sse/documents/sse-resume"), Map.of("Last-Event-ID", last)))
                .get(10, TimeUnit.SECONDS); // the head: before any event or heartbeat
        try (stream) {
            String next = RestBroadcast.send(base, "sse-resume", "{\"n\":2}");
            SseClient.Event event = stream.next("broadcast"); // nothing replayed: the first event is the new one
            assertEquals(next, event.id());
            assertNotEquals(last, event.id());
        }
    }
}
