package dev.copresence.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import com.fasterxml.jackson.databind.ObjectMapper;

/** A durable broadcast through the REST API ({@code POST /api/documents/{doc}/broadcast}), as a backend sends one. */
public final class RestBroadcast {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    private RestBroadcast() {
    }

    /** Sends {@code data} (JSON) to {@code doc} on the node at {@code base}; the event's offset. */
    public static String send(URI base, String doc, String data) {
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/api/documents/" + doc + "/broadcast"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"data\":" + data + "}")).build();
        HttpResponse<String> response = HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofString()).join();
        assertEquals(200, response.statusCode(), response.body());
        try {
            return JSON.readTree(response.body()).get("offset").asText();
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + response.body(), e);
        }
    }
}
