package dev.copresence.engine;

/**
 * One event of a document as the engine carries it between nodes: the frame to send to clients,
 * already encoded once, plus what a node needs to route it. On Redis it travels as one string,
 * {@link #toWire()}: {@code "<kind> <offset|-> <origin|-> <target|->\n<frame>"}.
 *
 * @param kind how to route it
 * @param offset the log offset of a durable event, null for ephemeral ones
 * @param origin the member it comes from (null for the server)
 * @param target the one member a signal is for
 * @param frame the JSON text sent to clients
 */
public record DocEvent(Kind kind, String offset, String origin, String target, String frame) {

    public enum Kind {
        /** Durable (logged, has an offset); every member but {@code origin} gets it. */
        DURABLE_TO_OTHERS('d'),
        /** Durable; every member, {@code origin} included ({@code broadcast} with {@code echo}). */
        DURABLE_TO_ALL('a'),
        /** {@code presence}/{@code update}: ephemeral, to every member but origin; conflatable. */
        UPDATE('u'),
        /** {@code typing}: ephemeral, to every member but origin; conflatable. */
        TYPING('t'),
        /** {@code signal}: to {@code target} only. */
        SIGNAL('s');

        private final char code;

        Kind(char code) {
            this.code = code;
        }

        public char code() {
            return code;
        }

        public boolean durable() {
            return this == DURABLE_TO_OTHERS || this == DURABLE_TO_ALL;
        }

        static Kind of(char code) {
            for (Kind kind : values()) {
                if (kind.code == code) {
                    return kind;
                }
            }
            throw new IllegalArgumentException("unknown event kind " + code);
        }
    }

    public static DocEvent durable(String offset, String origin, boolean toOrigin, String frame) {
        return new DocEvent(toOrigin ? Kind.DURABLE_TO_ALL : Kind.DURABLE_TO_OTHERS, offset, origin, null, frame);
    }

    /** A durable event read back from a log entry (its kind code and origin as stored, {@code -} for none). */
    public static DocEvent logged(String kindCode, String offset, String origin, String frame) {
        Kind kind = kindCode == null ? Kind.DURABLE_TO_OTHERS : Kind.of(kindCode.charAt(0));
        return new DocEvent(kind, offset, origin == null || "-".equals(origin) ? null : origin, null, frame);
    }

    public String toWire() {
        return header(kind, offset, origin, target) + frame;
    }

    /** The header alone, for a Redis script that knows the offset only once it has appended. */
    public static String header(Kind kind, String offset, String origin, String target) {
        return kind.code + " " + orDash(offset) + " " + orDash(origin) + " " + orDash(target) + "\n";
    }

    public static DocEvent fromWire(String wire) {
        int nl = wire.indexOf('\n');
        String[] head = wire.substring(0, nl).split(" ", 4);
        return new DocEvent(Kind.of(head[0].charAt(0)), orNull(head[1]), orNull(head[2]), orNull(head[3]),
                wire.substring(nl + 1));
    }

    private static String orDash(String s) {
        return s == null ? "-" : s;
    }

    private static String orNull(String s) {
        return "-".equals(s) ? null : s;
    }
}
