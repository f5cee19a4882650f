package dev.copresence.transport;

import dev.copresence.protocol.ProtocolException;

/**
 * Checks shared by the read-only HTTP transports; a refusal carries the protocol's error object.
 * (Origins and tokens are checked before any of them, for every /sse and /poll path: HttpGuard.)
 */
final class HttpChecks {
    /** Longer than any offset either engine issues. */
    static final int MAX_OFFSET_LENGTH = 128;

    private HttpChecks() {
    }

    /** An offset from the client, or null when it sent none; the engine decides if it can resume from it. */
    static String offset(String value, String name) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        if (value.length() > MAX_OFFSET_LENGTH) {
            throw ProtocolException.badRequest(name + " must be an offset the server gave");
        }
        return value;
    }
}
