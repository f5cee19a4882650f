package dev.copresence.support;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A WebSocket client on a plain socket (RFC 6455), for what well-behaved clients cannot send: text
 * frames that are not UTF-8, any opcode, unmasked or fragmented frames. It does the upgrade, writes
 * frames exactly as asked and reads the server's frames back, close code included. Not thread-safe,
 * but writing touches only the output and reading only the input: one thread may write while
 * another reads.
 */
public final class RawWebSocket implements AutoCloseable {
    public static final int CONTINUATION = 0x0;
    public static final int TEXT = 0x1;
    public static final int BINARY = 0x2;
    public static final int CLOSE = 0x8;
    public static final int PING = 0x9;
    public static final int PONG = 0xA;

    /** A close code that was never received: the TCP connection ended without a close frame. */
    public static final int NO_CLOSE_FRAME = 1006;

    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One frame from the server. */
    public record Frame(boolean fin, int opcode, byte[] payload) {
        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** The status code of a close frame; 1005 when it carried none. */
        public int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : 1005;
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final int status;
    private final Map<String, String> headers;
    private boolean mask = true;

    private RawWebSocket(Socket socket, int status, Map<String, String> headers, InputStream in) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(in);
        this.out = socket.getOutputStream();
        this.status = status;
        this.headers = headers;
    }

    /** Upgrades {@code pathAndQuery} on the server of {@code base} (an http:// URI); see {@link #status}. */
    public static RawWebSocket connect(URI base, String pathAndQuery) {
        return connect(base, pathAndQuery, Map.of());
    }

    public static RawWebSocket connect(URI base, String pathAndQuery, Map<String, String> extraHeaders) {
        return connect(base, pathAndQuery, extraHeaders, 0);
    }

    /** A client with a small TCP receive buffer, so that not reading backs up into the server at once. */
    public static RawWebSocket connectSlow(URI base, String pathAndQuery, int receiveBuffer) {
        return connect(base, pathAndQuery, Map.of(), receiveBuffer);
    }

    private static RawWebSocket connect(URI base, String pathAndQuery, Map<String, String> extraHeaders, int receiveBuffer) {
        String host = base.getHost();
        int port = base.getPort() > 0 ? base.getPort() : 80;
        try {
            Socket socket = new Socket();
            if (receiveBuffer > 0) {
                socket.setReceiveBufferSize(receiveBuffer);
            }
            socket.connect(new java.net.InetSocketAddress(host, port), (int) WsClient.TIMEOUT.toMillis());
            socket.setSoTimeout((int) WsClient.TIMEOUT.toMillis());
            socket.setTcpNoDelay(true);
            byte[] nonce = new byte[16];
            RANDOM.nextBytes(nonce);
            String key = Base64.getEncoder().encodeToString(nonce);
            StringBuilder request = new StringBuilder()
                    .append("GET ").append(pathAndQuery).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(host).append(':').append(port).append("\r\n")
                    .append("Upgrade: websocket\r\n")
                    .append("Connection: Upgrade\r\n")
                    .append("Sec-WebSocket-Key: ").append(key).append("\r\n")
                    .append("Sec-WebSocket-Version: 13\r\n");
            extraHeaders.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
            request.append("\r\n");
            socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();

            InputStream raw = socket.getInputStream();
            String statusLine = readLine(raw);
            String[] parts = statusLine.split(" ", 3);
            int status = Integer.parseInt(parts[1]);
            Map<String, String> headers = new LinkedHashMap<>();
            for (String line = readLine(raw); !line.isEmpty(); line = readLine(raw)) {
                int colon = line.indexOf(':');
                headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
            if (status == 101) {
                String expected = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                        .digest((key + GUID).getBytes(StandardCharsets.ISO_8859_1)));
                if (!expected.equals(headers.get("sec-websocket-accept"))) {
                    socket.close();
                    throw new IllegalStateException("bad Sec-WebSocket-Accept: " + headers);
                }
            }
            return new RawWebSocket(socket, status, headers, raw);
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("upgrade of " + pathAndQuery + " failed: " + e, e);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                break;
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        if (b == -1 && line.size() == 0) {
            throw new EOFException("connection closed during the handshake");
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    /** The HTTP status of the upgrade: 101 when it became a WebSocket. */
    public int status() {
        return status;
    }

    public Map<String, String> headers() {
        return headers;
    }

    /** The body of a refused upgrade (by its Content-Length). */
    public String refusalBody() {
        if (status == 101) {
            throw new IllegalStateException("the upgrade was not refused");
        }
        try {
            return new String(in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0"))), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends the following frames unmasked (which RFC 6455 forbids a client to do). */
    public RawWebSocket unmasked() {
        this.mask = false;
        return this;
    }

    // ---- writing --------------------------------------------------------------------------------

    /** Writes one frame exactly as given (masked unless {@link #unmasked}). */
    public RawWebSocket frame(boolean fin, int opcode, byte[] payload) {
        return frame((fin ? 0x80 : 0) | (opcode & 0x0F), payload);
    }

    /** A final text frame with RSV1 set: a permessage-deflate message (RFC 7692), whether or not it was negotiated. */
    public RawWebSocket compressedText(byte[] deflated) {
        return frame(0x80 | 0x40 | TEXT, deflated);
    }

    /** Writes a frame whose first byte (FIN, RSV1-3, opcode) is {@code firstByte}. */
    private RawWebSocket frame(int firstByte, byte[] payload) {
        return write(encode(firstByte, payload));
    }

    /** Final text frames, all in one write: the server may read them all at once. */
    public RawWebSocket texts(List<String> texts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (String text : texts) {
            all.writeBytes(encode(0x80 | TEXT, text.getBytes(StandardCharsets.UTF_8)));
        }
        return write(all.toByteArray());
    }

    private RawWebSocket write(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
            return this;
        } catch (IOException e) {
            throw new IllegalStateException("write failed: " + e, e);
        }
    }

    private byte[] encode(int firstByte, byte[] payload) {
        try {
            ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 14);
            frame.write(firstByte);
            int maskBit = mask ? 0x80 : 0;
            if (payload.length < 126) {
                frame.write(maskBit | payload.length);
            } else if (payload.length <= 0xFFFF) {
                frame.write(maskBit | 126);
                frame.write(payload.length >>> 8);
                frame.write(payload.length & 0xFF);
            } else {
                frame.write(maskBit | 127);
                frame.write(ByteBuffer.allocate(8).putLong(payload.length).array());
            }
            if (mask) {
                byte[] key = new byte[4];
                RANDOM.nextBytes(key);
                frame.write(key);
                byte[] masked = new byte[payload.length];
                for (int i = 0; i < payload.length; i++) {
                    masked[i] = (byte) (payload[i] ^ key[i & 3]);
                }
                frame.write(masked);
            } else {
                frame.write(payload);
            }
            return frame.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public RawWebSocket text(byte[] utf8OrNot) {
        return frame(true, TEXT, utf8OrNot);
    }

    public RawWebSocket text(String text) {
        return text(text.getBytes(StandardCharsets.UTF_8));
    }

    public RawWebSocket binary(byte[] bytes) {
        return frame(true, BINARY, bytes);
    }

    public RawWebSocket ping(byte[] payload) {
        return frame(true, PING, payload);
    }

    public RawWebSocket close(int code, String reason) {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        ByteBuffer payload = ByteBuffer.allocate(2 + r.length).putShort((short) code).put(r);
        return frame(true, CLOSE, payload.array());
    }

    // ---- reading --------------------------------------------------------------------------------

    /** The next frame from the server, whatever it is; null when the connection ended. */
    public Frame readFrame() {
        try {
            int b0 = in.read();
            if (b0 == -1) {
                return null;
            }
            int b1 = in.readUnsignedByte();
            long length = b1 & 0x7F;
            if (length == 126) {
                length = in.readUnsignedShort();
            } else if (length == 127) {
                length = in.readLong();
            }
            byte[] key = (b1 & 0x80) != 0 ? in.readNBytes(4) : null;
            if (length > 16 * 1024 * 1024) {
                throw new IllegalStateException("frame of " + length + " bytes");
            }
            byte[] payload = in.readNBytes((int) length);
            if (payload.length != length) {
                return null;
            }
            if (key != null) {
                for (int i = 0; i < payload.length; i++) {
                    payload[i] ^= key[i & 3];
                }
            }
            return new Frame((b0 & 0x80) != 0, b0 & 0x0F, payload);
        } catch (SocketTimeoutException e) {
            throw new IllegalStateException("no frame within " + WsClient.TIMEOUT.toSeconds() + " s");
        } catch (EOFException e) {
            return null;
        } catch (IOException e) {
            // a reset connection ended without a close frame
            return null;
        }
    }

    /**
     * The next complete text message (fragments joined), answering and skipping pings and pongs.
     * Null when the server closed instead (the close frame is kept for {@link #awaitClose}). Fails
     * when neither came within {@link WsClient#TIMEOUT}, also while the server keeps pinging.
     */
    public String nextText() {
        long deadline = System.nanoTime() + WsClient.TIMEOUT.toNanos();
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        while (true) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no text message and no close within " + WsClient.TIMEOUT.toSeconds() + " s");
            }
            Frame frame = readFrame();
            if (frame == null) {
                closeCode = NO_CLOSE_FRAME;
                return null;
            }
            switch (frame.opcode()) {
                case PING -> frame(true, PONG, frame.payload());
                case PONG -> {
                }
                case CLOSE -> {
                    closedBy(frame);
                    return null;
                }
                case TEXT, CONTINUATION -> {
                    message.writeBytes(frame.payload());
                    if (frame.fin()) {
                        return message.toString(StandardCharsets.UTF_8);
                    }
                }
                default -> throw new IllegalStateException("unexpected frame opcode " + frame.opcode());
            }
        }
    }

    private Integer closeCode;
    private String closeReason;

    /** Keeps the server's close code and reason (after the code's two bytes). */
    private void closedBy(Frame close) {
        closeCode = close.closeCode();
        closeReason = new String(close.payload(), StandardCharsets.UTF_8).substring(Math.min(2, close.payload().length));
    }

    /**
     * Reads (and drops) frames until the server closes; returns its close code, or
     * {@link #NO_CLOSE_FRAME} when the TCP connection ended without one. Fails when the server has
     * not closed within {@link WsClient#TIMEOUT}, also while it keeps sending (its pings, say).
     */
    public int awaitClose() {
        long deadline = System.nanoTime() + WsClient.TIMEOUT.toNanos();
        while (closeCode == null) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("not closed within " + WsClient.TIMEOUT.toSeconds() + " s");
            }
            Frame frame = readFrame();
            if (frame == null) {
                closeCode = NO_CLOSE_FRAME;
            } else if (frame.opcode() == CLOSE) {
                closedBy(frame);
            } else if (frame.opcode() == PING) {
                try {
                    frame(true, PONG, frame.payload());
                } catch (IllegalStateException gone) {
                    // the connection is closing under the answer: the next read tells how it ended
                }
            }
        }
        return closeCode;
    }

    /** The reason of the server's close frame, once {@link #awaitClose} returned. */
    public String closeReason() {
        return closeReason;
    }

    public boolean isClosed() {
        return closeCode != null;
    }

    /** Sets how long a read waits for the server. */
    public RawWebSocket timeout(Duration timeout) {
        try {
            socket.setSoTimeout((int) timeout.toMillis());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return this;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already gone
        }
    }
}
