package dev.copresence.protocol;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Every message a client may send (wire protocol v1, "Client → server"). {@code id} is the client's
 * correlation id (a number or string node), null when absent. {@code doc} is null when the client
 * left it out (allowed on the bound endpoint only).
 */
public sealed interface ClientMessage {

    JsonNode id();

    /** Messages that name a document. */
    sealed interface DocMessage extends ClientMessage {
        String doc();
    }

    record Join(JsonNode id, String doc, ObjectNode state, UserRef user, String since) implements DocMessage {
    }

    record Leave(JsonNode id, String doc) implements DocMessage {
    }

    record Update(JsonNode id, String doc, ObjectNode state) implements DocMessage {
    }

    record Typing(JsonNode id, String doc, boolean typing) implements DocMessage {
    }

    record Broadcast(JsonNode id, String doc, JsonNode data, boolean echo) implements DocMessage {
    }

    record Signal(JsonNode id, String doc, String to, JsonNode data) implements DocMessage {
    }

    record Watch(JsonNode id, List<String> users) implements ClientMessage {
    }

    record Unwatch(JsonNode id, List<String> users) implements ClientMessage {
    }

    record Ping(JsonNode id) implements ClientMessage {
    }

    /** Replaces the connection's token before it expires (auth mode {@code jwt}). */
    record Auth(JsonNode id, String token) implements ClientMessage {
    }
}
