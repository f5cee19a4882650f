package dev.copresence.bench;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

import io.vertx.core.buffer.Buffer;

/**
 * An incremental reader of a {@code text/event-stream}: it is fed the body as it arrives, in chunks
 * that may end anywhere (inside a line, between a CR and its LF, inside a UTF-8 sequence), and hands
 * the {@code data} of each complete event to its consumer.
 *
 * <p>Only what the benchmark needs of the WHATWG rules: lines end with LF, CRLF or CR; a blank line
 * ends an event; {@code data:} lines are joined with LF; one space after the colon is dropped;
 * comments ({@code :heartbeat}) and the other fields ({@code event}, {@code id}, {@code retry}) are
 * skipped, because the JSON in {@code data} already names its type and carries its offset.
 */
final class SseParser {
    private final Consumer<String> onData;
    /** The bytes of the line being read; decoded only once complete, so split UTF-8 is harmless. */
    private byte[] line = new byte[256];
    private int length;
    /** The last byte was a CR: an LF right after it (maybe in the next chunk) ends no second line. */
    private boolean afterCr;
    private final StringBuilder data = new StringBuilder();
    private boolean hasData;

    SseParser(Consumer<String> onData) {
        this.onData = onData;
    }

    void feed(Buffer chunk) {
        byte[] bytes = chunk.getBytes();
        for (byte b : bytes) {
            if (b == '\n' && afterCr) {
                afterCr = false;
                continue;
            }
            afterCr = b == '\r';
            if (b == '\n' || b == '\r') {
                line();
                length = 0;
            } else {
                if (length == line.length) {
                    line = Arrays.copyOf(line, length * 2);
                }
                line[length++] = b;
            }
        }
    }

    private void line() {
        if (length == 0) { // blank line: the event is complete
            if (hasData) {
                String d = data.toString();
                data.setLength(0);
                hasData = false;
                onData.accept(d);
            }
            return;
        }
        if (line[0] == ':') {
            return; // a comment (the server's heartbeat)
        }
        int colon = 0;
        while (colon < length && line[colon] != ':') {
            colon++;
        }
        if (colon != 4 || line[0] != 'd' || line[1] != 'a' || line[2] != 't' || line[3] != 'a') {
            return; // event, id, retry, or a field we do not know: not needed here
        }
        int start = colon + 1;
        if (start < length && line[start] == ' ') {
            start++;
        }
        if (hasData) {
            data.append('\n');
        }
        // a "data" line with no colon at all is an empty value
        data.append(new String(line, Math.min(start, length), Math.max(0, length - start), StandardCharsets.UTF_8));
        hasData = true;
    }
}
