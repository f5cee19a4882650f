package dev.copresence.engine;

/**
 * Order of the offsets this service issues. Both engines issue {@code <a>-<b>} with decimal parts
 * (a Redis stream id, or a memory epoch and sequence), increasing within a document. Clients never
 * compare offsets; a node does, to drop events its member's snapshot already contains.
 */
public final class Offsets {
    private Offsets() {
    }

    public static int compare(String x, String y) {
        int dash = x.indexOf('-');
        return -compare(y, number(x, 0, dash), number(x, dash + 1, x.length()));
    }

    /** The order of {@code offset} against the offset {@code first-second}, read in place. */
    private static int compare(String offset, long first, long second) {
        int dash = offset.indexOf('-');
        long f = number(offset, 0, dash);
        return f != first ? Long.compare(f, first) : Long.compare(number(offset, dash + 1, offset.length()), second);
    }

    /**
     * An offset read once, for what is compared with many events: a member's join offset is compared
     * with every event the member is sent, and reading its digits each time was a cost per delivery.
     */
    public record Position(long first, long second) {
        public static Position of(String offset) {
            int dash = offset.indexOf('-');
            return new Position(number(offset, 0, dash), number(offset, dash + 1, offset.length()));
        }

        /** The offset this position was read from. */
        public String offset() {
            return first + "-" + second;
        }

        /** True when {@code offset} comes after this position. */
        public boolean before(String offset) {
            return compare(offset, first, second) > 0;
        }

        /** True when {@code offset} is this position or comes after it. */
        public boolean reachedBy(String offset) {
            return compare(offset, first, second) >= 0;
        }
    }

    private static long number(String s, int from, int to) {
        if (from >= to) {
            throw new NumberFormatException("not an offset: " + s);
        }
        long n = 0;
        for (int i = from; i < to; i++) {
            int digit = s.charAt(i) - '0';
            if (digit < 0 || digit > 9 || n > (Long.MAX_VALUE - digit) / 10) {
                throw new NumberFormatException("not an offset: " + s);
            }
            n = n * 10 + digit;
        }
        return n;
    }
}
