package dev.copresence.transport;

/**
 * What the read-only HTTP transports take from a client alike. (Origins and tokens are checked
 * before, for every /sse and /poll path: HttpGuard.)
 */
final class HttpChecks {
    private HttpChecks() {
    }

    /**
     * An offset from the client, or null when it sent none; the engine decides if it can resume from
     * it. One the server did not issue (too long, made up) resumes nothing: the contract's resumed:false.
     */
    static String offset(String value) {
        return value == null || value.isEmpty() ? null : value;
    }
}
