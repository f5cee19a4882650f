package dev.copresence.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay in front of a Redis that can make its subscribers' connections go silent: still open
 * at both ends, nothing passing either way, as when the path to Redis dies without a reset (a lost
 * host, a dropped NAT entry). A connection is a subscriber once it has sent a SUBSCRIBE; the
 * connections opened afterwards relay as usual. It can also silence the command connections, or lose
 * only Redis's answers on them, then reset every connection: commands that never reached Redis, or
 * that Redis ran, whose answers never came.
 */
public final class SilencingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int redisPort;
    private final List<Relay> relays = new CopyOnWriteArrayList<>();
    /** What silenced connections' clients sent that Redis never got (the last 64 KiB), as Latin-1 text. */
    private final StringBuilder dropped = new StringBuilder();
    private volatile boolean silencingCommands;
    private volatile boolean losingAnswers;

    private SilencingProxy(int redisPort) throws IOException {
        this.redisPort = redisPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        daemon("proxy-accept", this::accept);
    }

    public static SilencingProxy to(RedisServer redis) {
        try {
            return new SilencingProxy(redis.port());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Connections that have subscribed, silenced or not: one more each time a node subscribes anew. */
    public long subscribers() {
        return relays.stream().filter(r -> r.subscriber).count();
    }

    /** From now on nothing passes on the connections that have subscribed; none of them is closed. */
    public void silenceSubscribers() {
        relays.stream().filter(r -> r.subscriber).forEach(r -> r.silent = true);
    }

    /** True once a silenced connection's client sent {@code text}, which Redis then never got. */
    public boolean dropped(String text) {
        synchronized (dropped) {
            return dropped.indexOf(text) >= 0;
        }
    }

    /**
     * From now on, until {@link #resetAll}, nothing passes on the command connections, either way:
     * at once on those open now, and on one opened later from its first script on (its handshake
     * passes, as the node's pool may open one for the very command a test sends); none is closed.
     */
    public void silenceCommands() {
        silencingCommands = true;
        relays.stream().filter(r -> !r.subscriber).forEach(r -> r.silent = true);
    }

    /**
     * From now on, until {@link #resetAll}, Redis's answers on the command connections are dropped,
     * while commands still reach Redis: at once on those open now, and on one opened later from its
     * first script on.
     */
    public void loseAnswers() {
        losingAnswers = true;
        relays.stream().filter(r -> !r.subscriber).forEach(r -> r.answersLost = true);
    }

    /** Resets every connection open now (an RST to the node, as when the path to Redis breaks); ends the modes above. */
    public void resetAll() {
        silencingCommands = false;
        losingAnswers = false;
        relays.forEach(Relay::reset);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket redis = new Socket(InetAddress.getLoopbackAddress(), redisPort);
                Relay relay = new Relay(client, redis);
                relay.silentFromScript = silencingCommands;
                relay.answersLostFromScript = losingAnswers;
                relays.add(relay);
                daemon("proxy-up", () -> relay.pump(client, redis, true));
                daemon("proxy-down", () -> relay.pump(redis, client, false));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private static void daemon(String name, Runnable task) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        thread.start();
    }

    private final class Relay {
        final Socket client;
        final Socket redis;
        volatile boolean subscriber;
        volatile boolean silent;
        volatile boolean answersLost;
        /** Opened while commands were silenced (or answers lost): so from its first script on. */
        volatile boolean silentFromScript;
        volatile boolean answersLostFromScript;

        Relay(Socket client, Socket redis) {
            this.client = client;
            this.redis = redis;
        }

        void pump(Socket from, Socket to, boolean up) {
            byte[] buffer = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    String text = up ? new String(buffer, 0, n, StandardCharsets.ISO_8859_1).toUpperCase() : "";
                    if (up && !subscriber && text.contains("SUBSCRIBE")) {
                        subscriber = true;
                    }
                    if (up && !subscriber && text.contains("EVAL")) { // before it passes: its answer comes after
                        silent |= silentFromScript;
                        answersLost |= answersLostFromScript;
                    }
                    // a silent connection's bytes are read and dropped: its peers see an open, quiet socket
                    if (!silent && (up || !answersLost)) {
                        out.write(buffer, 0, n);
                        out.flush();
                    } else if (up) {
                        synchronized (dropped) {
                            dropped.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
                            dropped.delete(0, Math.max(0, dropped.length() - 65536));
                        }
                    }
                }
            } catch (IOException e) {
                // either side closed
            } finally {
                close();
            }
        }

        void reset() {
            try {
                client.setSoLinger(true, 0); // closing then sends an RST, not a FIN
            } catch (IOException ignored) {
            }
            close();
        }

        void close() {
            try {
                client.close();
            } catch (IOException ignored) {
            }
            try {
                redis.close();
            } catch (IOException ignored) {
            }
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
        }
        relays.forEach(Relay::close);
    }
}
