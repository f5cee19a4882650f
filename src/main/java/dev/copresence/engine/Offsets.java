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
        int dx = x.indexOf('-');
        int dy = y.indexOf('-');
        int first = Long.compare(Long.parseLong(x.substring(0, dx)), Long.parseLong(y.substring(0, dy)));
        return first != 0 ? first : Long.compare(Long.parseLong(x.substring(dx + 1)), Long.parseLong(y.substring(dy + 1)));
    }
}
