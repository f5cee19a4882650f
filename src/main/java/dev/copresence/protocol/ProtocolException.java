package dev.copresence.protocol;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A message that cannot be applied. Thrown before anything changes, so that answering it with an
 * {@code error} is all that happens. No stack trace: these are expected and frequent under abuse.
 */
public final class ProtocolException extends RuntimeException {
    private final ErrorCode code;
    private final transient JsonNode id;

    public ProtocolException(ErrorCode code, String message) {
        this(code, message, null);
    }

    public ProtocolException(ErrorCode code, String message, JsonNode id) {
        super(message, null, false, false);
        this.code = code;
        this.id = id;
    }

    public ErrorCode code() {
        return code;
    }

    /** The {@code id} of the message that failed, when it had a usable one. */
    public JsonNode id() {
        return id;
    }

    public ProtocolException withId(JsonNode id) {
        return this.id == null && id != null ? new ProtocolException(code, getMessage(), id) : this;
    }

    public static ProtocolException badRequest(String message) {
        return new ProtocolException(ErrorCode.BAD_REQUEST, message);
    }
}
