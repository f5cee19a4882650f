package dev.copresence.protocol;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * JSON of wire protocol v1, both ways. Decoding turns a frame into a {@link ClientMessage} or throws
 * a {@link ProtocolException} (nothing else escapes); encoding writes each server message by hand
 * with a streaming generator: no reflection, so it works the same in a native image.
 *
 * <p>Durable events ({@code presence} join/leave, {@code broadcast}) are encoded with their
 * {@code offset} as the last field, so that the step that assigns the offset (a Redis script, or the
 * memory log) can finish the frame by appending it: see {@link #durablePrefix} and {@link #withOffset}.
 */
public final class Codec {
    /** Deeper JSON than this is refused: it costs stack and is never needed for presence state. */
    public static final int MAX_DEPTH = 64;
    private static final String TYPE_PREFIX = "{\"type\":\"";

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
            .build();
    private static final ObjectMapper MAPPER = new ObjectMapper(FACTORY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    private Codec() {
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    // ---- decoding -------------------------------------------------------------------------------

    /** Parses one client frame. Throws {@link ProtocolException} for anything the contract rejects. */
    public static ClientMessage decode(String text) {
        return Decoder.decode(parse(text));
    }

    static JsonNode parse(String text) {
        try {
            JsonNode node = MAPPER.readTree(text);
            if (node == null || node.isMissingNode()) {
                throw new ProtocolException(ErrorCode.BAD_JSON, "empty message: expected a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new ProtocolException(ErrorCode.BAD_JSON, "not valid JSON: " + reason(e));
        }
    }

    /**
     * Jackson's reason and where, in a line: without its "[Source: REDACTED …]" locations, which
     * say only that the input is not quoted back, and which the cut of a long message left half.
     */
    private static String reason(IOException e) {
        String message = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        if (message == null) {
            return "unreadable input";
        }
        int end = message.indexOf('\n');
        String line = end < 0 ? message : message.substring(0, end);
        int source = line.indexOf(" (start marker at [Source");
        line = source >= 0 ? line.substring(0, source) : line;
        line = line.length() > 160 ? line.substring(0, 160) : line;
        JsonLocation at = e instanceof JsonProcessingException j ? j.getLocation() : null;
        return at == null || at.getLineNr() < 1 ? line : line + " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
    }

    /** Parses a JSON value of an HTTP body or a stored record; null when it is not JSON. */
    public static JsonNode readTreeOrNull(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    // ---- encoding -------------------------------------------------------------------------------

    public static String encode(ServerMessage message) {
        if (message instanceof ServerMessage.Presence p && p.offset() != null) {
            return withOffset(durablePrefix(p), p.offset());
        }
        if (message instanceof ServerMessage.Broadcast b && b.offset() != null) {
            return withOffset(durablePrefix(b), b.offset());
        }
        return write(g -> Encoder.write(g, message));
    }

    /** The frame of a durable event up to its offset value: {@code ...,"offset":"}. */
    public static String durablePrefix(ServerMessage durable) {
        String whole = write(g -> Encoder.writeWithoutOffset(g, durable));
        return whole.substring(0, whole.length() - 1) + ",\"offset\":\"";
    }

    /**
     * The offset of a durable event's frame, its last field ({@link #withOffset}), found without
     * parsing the frame: a resume reads up to a history's worth of them. Null for any other frame.
     */
    public static String offsetOf(String frame) {
        String field = ",\"offset\":\"";
        int at = frame.lastIndexOf(field);
        if (at < 0 || !frame.endsWith("\"}")) {
            return null;
        }
        String offset = frame.substring(at + field.length(), frame.length() - 2);
        return offset.indexOf('"') < 0 ? offset : null;
    }

    /** The {@link #durablePrefix} of a member's {@code presence}/{@code join}: what the engines append to the log. */
    public static String joinPrefix(String doc, Member member) {
        return durablePrefix(new ServerMessage.Presence(doc, "join", member, null, null));
    }

    /** Completes a {@link #durablePrefix} with the offset the log assigned. Offsets need no escaping. */
    public static String withOffset(String prefix, String offset) {
        return prefix + offset + "\"}";
    }

    /** A JSON array of public member objects, as {@code joined} and {@code members} write them. */
    public static String encodeMembers(java.util.List<Member> members) {
        return write(g -> {
            g.writeStartArray();
            for (Member member : members) {
                Encoder.writeMember(g, member, null);
            }
            g.writeEndArray();
        });
    }

    /**
     * An encoded frame's {@code type}: the encoder and the Lua scripts write it first, so no parse is
     * needed; a frame that does not start with it is parsed; {@code message} when it has none.
     */
    public static String type(String frame) {
        if (frame.startsWith(TYPE_PREFIX)) {
            int end = frame.indexOf('"', TYPE_PREFIX.length());
            if (end > 0) {
                return frame.substring(TYPE_PREFIX.length(), end);
            }
        }
        JsonNode json = readTreeOrNull(frame);
        return json == null || !json.hasNonNull("type") ? "message" : json.get("type").asText();
    }

    /** A string as a JSON string literal. */
    public static String quote(String text) {
        return MAPPER.getNodeFactory().textNode(text).toString();
    }

    /**
     * A member as stored in a registry: the public object plus the name of the node that holds it,
     * last (reap.lua strips it, and renew.lua checks it, at the end of the record).
     */
    public static String encodeStoredMember(Member member, String node) {
        return write(g -> Encoder.writeMember(g, member, node));
    }

    public static Member decodeStoredMember(String json) {
        JsonNode n = readTreeOrNull(json);
        if (n == null || !n.isObject()) {
            throw new IllegalStateException("corrupt member record");
        }
        JsonNode user = n.path("user");
        JsonNode state = n.get("state");
        return new Member(n.path("id").asText(),
                new UserRef(user.path("id").asText(), user.hasNonNull("name") ? user.get("name").asText() : null),
                state instanceof ObjectNode o ? State.of(o) : State.EMPTY,
                n.path("typing").asBoolean(false), n.path("joinedAt").asLong());
    }

    interface Writer {
        void write(JsonGenerator g) throws IOException;
    }

    static String write(Writer writer) {
        StringWriter out = new StringWriter(128);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.setCodec(MAPPER);
            writer.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /**
     * JSON text with each lone UTF-16 surrogate written as its escape ({@code \\ud83d}); the same
     * instance when it holds none. JSON carries such a character escaped (a string a client cut in the
     * middle of an emoji), and it has no UTF-8 form: wherever the text becomes UTF-8 (a frame, an
     * argument to Redis) it would turn into {@code ?}. In JSON text it can only stand inside a string,
     * where the escape means the same character.
     */
    public static String escapeLoneSurrogates(String json) {
        StringBuilder escaped = null;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (!Character.isSurrogate(c)) {
                if (escaped != null) {
                    escaped.append(c);
                }
                continue;
            }
            boolean lone = Character.isHighSurrogate(c)
                    ? i + 1 == json.length() || !Character.isLowSurrogate(json.charAt(i + 1))
                    : i == 0 || !Character.isHighSurrogate(json.charAt(i - 1));
            if (lone && escaped == null) {
                escaped = new StringBuilder(json.length() + 16).append(json, 0, i);
            }
            if (escaped != null) {
                if (lone) {
                    escaped.append("\\u").append(Integer.toHexString(c));
                } else {
                    escaped.append(c);
                }
            }
        }
        return escaped == null ? json : escaped.toString();
    }
}
