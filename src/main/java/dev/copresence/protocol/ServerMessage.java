package dev.copresence.protocol;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

/** Every message the server sends (wire protocol v1, "Server → client"), encoded by {@link Codec}. */
public sealed interface ServerMessage {

    /** {@code resumed} is null when the join had no {@code since}. */
    record Joined(JsonNode id, String doc, String self, List<Member> members, String offset, Boolean resumed)
            implements ServerMessage {
    }

    /** {@code event} is join, leave or update; {@code offset} and {@code reason} as the contract says. */
    record Presence(String doc, String event, Member member, String reason, String offset) implements ServerMessage {
    }

    record Typing(String doc, String member, String user, boolean typing) implements ServerMessage {
    }

    record Broadcast(String doc, String from, JsonNode data, String offset) implements ServerMessage {
    }

    record Signal(String doc, String from, JsonNode data) implements ServerMessage {
    }

    /** {@code lastSeen} is null for a user never seen. */
    record Status(String user, boolean online, Long lastSeen) implements ServerMessage {
    }

    record Ack(JsonNode id) implements ServerMessage {
    }

    record Error(JsonNode id, String code, String message) implements ServerMessage {
    }

    record Pong(JsonNode id) implements ServerMessage {
    }

    /** The snapshot that opens an SSE stream or answers a poll that cannot resume. */
    record Members(String doc, List<Member> members, String offset) implements ServerMessage {
    }
}
