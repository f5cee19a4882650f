package dev.copresence.transport;

import com.fasterxml.jackson.databind.JsonNode;

import dev.copresence.protocol.Codec;

/** What the HTTP transports read back from an encoded frame: its type and, when durable, its offset. */
final class EventFrames {
    private static final String TYPE_PREFIX = "{\"type\":\"";

    private EventFrames() {
    }

    /** The frame's {@code type}; the encoder writes it first, so no parse is needed. */
    static String type(String frame) {
        if (frame.startsWith(TYPE_PREFIX)) {
            int end = frame.indexOf('"', TYPE_PREFIX.length());
            if (end > 0) {
                return frame.substring(TYPE_PREFIX.length(), end);
            }
        }
        JsonNode json = Codec.readTreeOrNull(frame);
        return json == null || !json.hasNonNull("type") ? "message" : json.get("type").asText();
    }

    /** The {@code offset} of a replayed frame (replays carry frames only, their offset is inside). */
    static String offset(String frame) {
        JsonNode json = Codec.readTreeOrNull(frame);
        return json == null || !json.hasNonNull("offset") ? null : json.get("offset").asText();
    }
}
