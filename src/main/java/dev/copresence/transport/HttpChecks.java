package dev.copresence.transport;

import jakarta.ws.rs.WebApplicationException;

import dev.copresence.protocol.ErrorCode;
import dev.copresence.protocol.ProtocolException;
import dev.copresence.security.Access;

/** Checks shared by the read-only HTTP transports; a refusal carries the protocol's error object. */
final class HttpChecks {
    /** Longer than any offset either engine issues. */
    static final int MAX_OFFSET_LENGTH = 128;

    private HttpChecks() {
    }

    /** A browser from an origin that is not allowed gets 403, as on the WebSocket upgrade. */
    static void origin(Access access, String origin) {
        if (!access.originAllowed(origin)) {
            throw refuse(new ProtocolException(ErrorCode.FORBIDDEN, "origin " + origin + " is not allowed"));
        }
    }

    /** An offset from the client, or null when it sent none; the engine decides if it can resume from it. */
    static String offset(String value, String name) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        if (value.length() > MAX_OFFSET_LENGTH) {
            throw refuse(ProtocolException.badRequest(name + " must be an offset the server gave"));
        }
        return value;
    }

    static WebApplicationException refuse(ProtocolException e) {
        return new WebApplicationException(RestApi.error(e));
    }
}
