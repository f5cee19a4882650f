package dev.copresence.protocol;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;

/** Writes server messages field by field: the exact shape of "Server → client". */
final class Encoder {
    private Encoder() {
    }

    static void write(JsonGenerator g, ServerMessage m) throws IOException {
        g.writeStartObject();
        if (m instanceof ServerMessage.Joined j) {
            type(g, "joined");
            id(g, j.id());
            g.writeStringField("doc", j.doc());
            g.writeStringField("self", j.self());
            g.writeArrayFieldStart("members");
            for (Member member : j.members()) {
                writeMember(g, member, null);
            }
            g.writeEndArray();
            g.writeStringField("offset", j.offset());
            if (j.resumed() != null) {
                g.writeBooleanField("resumed", j.resumed());
            }
        } else if (m instanceof ServerMessage.Presence p) {
            presenceFields(g, p);
        } else if (m instanceof ServerMessage.Typing t) {
            type(g, "typing");
            g.writeStringField("doc", t.doc());
            g.writeStringField("member", t.member());
            g.writeStringField("user", t.user());
            g.writeBooleanField("typing", t.typing());
        } else if (m instanceof ServerMessage.Broadcast b) {
            broadcastFields(g, b);
        } else if (m instanceof ServerMessage.Signal s) {
            type(g, "signal");
            g.writeStringField("doc", s.doc());
            g.writeStringField("from", s.from());
            data(g, s.data());
        } else if (m instanceof ServerMessage.Status s) {
            type(g, "status");
            g.writeStringField("user", s.user());
            g.writeBooleanField("online", s.online());
            if (s.lastSeen() != null) {
                g.writeNumberField("lastSeen", s.lastSeen());
            }
        } else if (m instanceof ServerMessage.Ack a) {
            type(g, "ack");
            id(g, a.id());
        } else if (m instanceof ServerMessage.Error e) {
            type(g, "error");
            id(g, e.id());
            g.writeStringField("code", e.code());
            g.writeStringField("message", e.message());
        } else if (m instanceof ServerMessage.Pong p) {
            type(g, "pong");
            id(g, p.id());
        } else if (m instanceof ServerMessage.Members s) {
            type(g, "members");
            g.writeStringField("doc", s.doc());
            g.writeArrayFieldStart("members");
            for (Member member : s.members()) {
                writeMember(g, member, null);
            }
            g.writeEndArray();
            g.writeStringField("offset", s.offset());
        }
        g.writeEndObject();
    }

    /** A durable event without its offset; {@link Codec#durablePrefix} appends the offset field. */
    static void writeWithoutOffset(JsonGenerator g, ServerMessage durable) throws IOException {
        g.writeStartObject();
        if (durable instanceof ServerMessage.Presence p) {
            presenceFields(g, new ServerMessage.Presence(p.doc(), p.event(), p.member(), p.reason(), null));
        } else if (durable instanceof ServerMessage.Broadcast b) {
            broadcastFields(g, new ServerMessage.Broadcast(b.doc(), b.from(), b.data(), null));
        } else {
            throw new IllegalArgumentException("not a durable event: " + durable.getClass().getSimpleName());
        }
        g.writeEndObject();
    }

    private static void presenceFields(JsonGenerator g, ServerMessage.Presence p) throws IOException {
        type(g, "presence");
        g.writeStringField("doc", p.doc());
        g.writeStringField("event", p.event());
        g.writeFieldName("member");
        writeMember(g, p.member(), null);
        if (p.reason() != null) {
            g.writeStringField("reason", p.reason());
        }
        if (p.offset() != null) {
            g.writeStringField("offset", p.offset());
        }
    }

    private static void broadcastFields(JsonGenerator g, ServerMessage.Broadcast b) throws IOException {
        type(g, "broadcast");
        g.writeStringField("doc", b.doc());
        g.writeStringField("from", b.from());
        data(g, b.data());
        if (b.offset() != null) {
            g.writeStringField("offset", b.offset());
        }
    }

    /** {@code storedNode}: the name of the node holding the member, written for a registry only. */
    static void writeMember(JsonGenerator g, Member m, String storedNode) throws IOException {
        g.writeStartObject();
        g.writeStringField("id", m.id());
        g.writeObjectFieldStart("user");
        g.writeStringField("id", m.user().id());
        if (m.user().name() != null) {
            g.writeStringField("name", m.user().name());
        }
        g.writeEndObject();
        g.writeFieldName("state");
        g.writeRawValue(m.state().json());
        g.writeBooleanField("typing", m.typing());
        g.writeNumberField("joinedAt", m.joinedAt());
        if (storedNode != null) {
            g.writeStringField("node", storedNode);
        }
        g.writeEndObject();
    }

    private static void type(JsonGenerator g, String type) throws IOException {
        g.writeStringField("type", type);
    }

    private static void id(JsonGenerator g, JsonNode id) throws IOException {
        if (id != null) {
            g.writeFieldName("id");
            g.writeTree(id);
        }
    }

    private static void data(JsonGenerator g, JsonNode data) throws IOException {
        g.writeFieldName("data");
        g.writeTree(data);
    }
}
