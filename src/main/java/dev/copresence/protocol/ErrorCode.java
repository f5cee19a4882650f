package dev.copresence.protocol;

/** The error codes of wire protocol v1, with the name each has on the wire. */
public enum ErrorCode {
    BAD_JSON("bad_json"),
    BAD_REQUEST("bad_request"),
    UNKNOWN_TYPE("unknown_type"),
    NOT_JOINED("not_joined"),
    UNKNOWN_MEMBER("unknown_member"),
    FORBIDDEN("forbidden"),
    UNAUTHORIZED("unauthorized"),
    TOO_LARGE("too_large"),
    RATE_LIMITED("rate_limited"),
    DOC_FULL("doc_full"),
    TOO_MANY_DOCS("too_many_docs"),
    INTERNAL("internal");

    private final String wire;

    ErrorCode(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }

    /** Messages answered with these codes count towards the bad-message limit (contract: Errors). */
    public boolean countsAsBad() {
        return this == BAD_JSON || this == BAD_REQUEST || this == UNKNOWN_TYPE;
    }
}
