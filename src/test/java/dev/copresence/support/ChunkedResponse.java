package dev.copresence.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * An HTTP/1.1 response read off a plain socket and held strictly to chunked transfer coding
 * (RFC 9112 §7.1): a chunk that is not its size in hex, CRLF, that many bytes and CRLF fails the test.
 * Clients such as {@code java.net.http} forgive less than browsers and proxies do; this forgives nothing.
 */
public final class ChunkedResponse implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final String head;

    private ChunkedResponse(Socket socket, String head) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.head = head;
    }

    /** Sends a GET with the given extra header lines (each ending in CRLF) and reads the response's head. */
    public static ChunkedResponse get(URI base, String path, String headerLines) {
        try {
            Socket socket = new Socket(base.getHost(), base.getPort());
            socket.setSoTimeout((int) WsClient.TIMEOUT.toMillis());
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + headerLines + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    throw new AssertionError("the connection closed in the head: " + head);
                }
                head.append((char) b);
            }
            return new ChunkedResponse(socket, head.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Status line and headers. */
    public String head() {
        return head;
    }

    /** A header's value (the first one), or null. */
    public String header(String name) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    public Socket socket() {
        return socket;
    }

    /** The next chunk's data; an empty array is the last chunk (the end of the body). */
    public byte[] nextChunk() {
        try {
            String size = line();
            if (!size.matches("[0-9a-fA-F]+")) {
                throw new AssertionError("not a chunk size: \"" + size + "\"");
            }
            int n = Integer.parseInt(size.toLowerCase(Locale.ROOT), 16);
            byte[] data = in.readNBytes(n);
            if (data.length < n) {
                throw new AssertionError("the connection closed inside a chunk");
            }
            if (!line().isEmpty()) {
                throw new AssertionError("a chunk of " + n + " bytes is not followed by CRLF");
            }
            return data;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The body as a stream of its chunks' data, ending with the last chunk. */
    public InputStream body() {
        return new InputStream() {
            private byte[] chunk = new byte[0];
            private int at;
            private boolean end;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                while (at == chunk.length) {
                    if (end) {
                        return -1;
                    }
                    chunk = nextChunk();
                    at = 0;
                    end = chunk.length == 0;
                }
                int n = Math.min(len, chunk.length - at);
                System.arraycopy(chunk, at, b, off, n);
                at += n;
                return n;
            }
        };
    }

    private String line() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) != '\n';) {
            if (b < 0) {
                throw new AssertionError("the connection closed inside a chunk's framing");
            }
            line.write(b);
        }
        byte[] bytes = line.toByteArray();
        if (bytes.length == 0 || bytes[bytes.length - 1] != '\r') {
            throw new AssertionError("a chunk's line does not end in CRLF");
        }
        return new String(bytes, 0, bytes.length - 1, StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
