package dev.copresence.protocol;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Field-level validation of client messages: every rule of "Client → server" lives here. */
final class Decoder {
    /** A {@code watch} may name at most this many users at once (bounds the answer and the work). */
    static final int MAX_WATCH = 1000;
    private static final int MAX_NAME_LENGTH = 256;
    private static final int MAX_ID_LENGTH = 128;

    private Decoder() {
    }

    static ClientMessage decode(JsonNode node) {
        if (!node.isObject()) {
            throw ProtocolException.badRequest("a message must be a JSON object");
        }
        JsonNode id = id(node);
        try {
            return decodeTyped(node, id);
        } catch (ProtocolException e) {
            throw e.withId(id);
        }
    }

    private static JsonNode id(JsonNode node) {
        JsonNode id = node.get("id");
        if (id == null) {
            return null;
        }
        if (id.isTextual() && id.textValue().length() <= MAX_ID_LENGTH || usableNumber(id)) {
            return id;
        }
        throw ProtocolException.badRequest("id must be a string of at most 128 characters or a finite number");
    }

    /**
     * Any number the contract allows, echoed as the same number (its text may differ: {@code 1e3}
     * comes back as {@code 1000.0}); an integer of up to 128 digits exactly. Not one that JSON cannot
     * write back ({@code 1e400} is read as infinity).
     */
    private static boolean usableNumber(JsonNode id) {
        if (id.isIntegralNumber()) {
            return id.canConvertToLong() || id.bigIntegerValue().abs().toString().length() <= MAX_ID_LENGTH;
        }
        return id.isNumber() && Double.isFinite(id.doubleValue());
    }

    private static ClientMessage decodeTyped(JsonNode n, JsonNode id) {
        JsonNode type = n.get("type");
        if (type == null || !type.isTextual()) {
            throw ProtocolException.badRequest("type is required and must be a string");
        }
        switch (type.textValue()) {
            case "join":
                return new ClientMessage.Join(id, doc(n), optionalObject(n, "state"), user(n), since(n));
            case "leave":
                return new ClientMessage.Leave(id, doc(n));
            case "update":
                return new ClientMessage.Update(id, doc(n), requiredObject(n, "state"));
            case "typing":
                return new ClientMessage.Typing(id, doc(n), requiredBoolean(n, "typing"));
            case "broadcast":
                return new ClientMessage.Broadcast(id, doc(n), requiredData(n), optionalBoolean(n, "echo"));
            case "signal":
                return new ClientMessage.Signal(id, doc(n), memberId(n), requiredData(n));
            case "watch":
                return new ClientMessage.Watch(id, users(n));
            case "unwatch":
                return new ClientMessage.Unwatch(id, users(n));
            case "ping":
                return new ClientMessage.Ping(id);
            case "auth":
                return new ClientMessage.Auth(id, token(n));
            default:
                throw new ProtocolException(ErrorCode.UNKNOWN_TYPE, "unknown message type: " + clip(type.textValue()));
        }
    }

    private static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }

    /** Null when absent (the bound endpoint fills it in); a present doc must be a valid id. */
    private static String doc(JsonNode n) {
        JsonNode doc = n.get("doc");
        if (doc == null || doc.isNull()) {
            return null;
        }
        if (!doc.isTextual()) {
            throw ProtocolException.badRequest("doc must be a string");
        }
        return Ids.requireDoc(doc.textValue());
    }

    private static ObjectNode optionalObject(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isObject()) {
            throw ProtocolException.badRequest(field + " must be a JSON object");
        }
        return (ObjectNode) v;
    }

    private static ObjectNode requiredObject(JsonNode n, String field) {
        ObjectNode v = optionalObject(n, field);
        if (v == null) {
            throw ProtocolException.badRequest(field + " is required and must be a JSON object");
        }
        return v;
    }

    private static boolean requiredBoolean(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isBoolean()) {
            throw ProtocolException.badRequest(field + " is required and must be true or false");
        }
        return v.booleanValue();
    }

    private static boolean optionalBoolean(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw ProtocolException.badRequest(field + " must be true or false");
        }
        return v.booleanValue();
    }

    /** {@code data} must be present; any JSON value, {@code null} included, is data. */
    private static JsonNode requiredData(JsonNode n) {
        JsonNode v = n.get("data");
        if (v == null) {
            throw ProtocolException.badRequest("data is required");
        }
        return v;
    }

    private static String memberId(JsonNode n) {
        JsonNode to = n.get("to");
        if (to == null || !to.isTextual() || !Ids.valid(to.textValue())) {
            throw ProtocolException.badRequest("to is required and must be a member id");
        }
        return to.textValue();
    }

    private static String since(JsonNode n) {
        JsonNode v = n.get("since");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ProtocolException.badRequest("since must be an offset string the server gave");
        }
        // any string: one the server did not issue (empty, too long, made up) resumes nothing, the
        // contract's resumed:false, rather than refusing the join
        return v.textValue();
    }

    private static UserRef user(JsonNode n) {
        JsonNode v = n.get("user");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isObject()) {
            throw ProtocolException.badRequest("user must be an object {\"id\",\"name\"}");
        }
        JsonNode uid = v.get("id");
        if (uid == null || !uid.isTextual()) {
            throw ProtocolException.badRequest("user.id is required and must be a string");
        }
        Ids.requireUser(uid.textValue());
        JsonNode name = v.get("name");
        if (name != null && !name.isNull() && (!name.isTextual() || name.textValue().length() > MAX_NAME_LENGTH)) {
            throw ProtocolException.badRequest("user.name must be a string of at most 256 characters");
        }
        return new UserRef(uid.textValue(), name == null || name.isNull() ? null : name.textValue());
    }

    private static List<String> users(JsonNode n) {
        JsonNode v = n.get("users");
        if (v == null || !v.isArray()) { // an empty one is a list like another: nothing to watch
            throw ProtocolException.badRequest("users is required and must be an array of user ids");
        }
        if (v.size() > MAX_WATCH) {
            throw ProtocolException.badRequest("users may name at most " + MAX_WATCH + " users");
        }
        // a user named twice is watched once, and answered with one status
        Set<String> users = new LinkedHashSet<>();
        for (JsonNode u : v) {
            if (!u.isTextual()) {
                throw ProtocolException.badRequest("users must hold user id strings");
            }
            users.add(Ids.requireUser(u.textValue()));
        }
        return List.copyOf(users);
    }

    private static String token(JsonNode n) {
        JsonNode v = n.get("token");
        if (v == null || !v.isTextual() || v.textValue().isEmpty() || v.textValue().length() > 16_384) {
            throw ProtocolException.badRequest("token is required and must be a string");
        }
        return v.textValue();
    }
}
