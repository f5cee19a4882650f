package dev.copresence.support;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * HTTP compression on, asked for event streams too ({@code SseCompressionTest}: they must go out
 * uncompressed all the same), and an event stream's first heartbeat 45 s away ({@code SseResumeTest}:
 * only the start of a stream can answer a reader in time). One profile for both: every profile costs
 * the suite a build of the application of its own before the first test.
 */
public final class CompressionOnQuietStreams implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("quarkus.http.enable-compression", "true",
                "quarkus.http.compress-media-types", "text/event-stream,application/json",
                "copresence.sse.heartbeat", "45s");
    }
}
