package dev.copresence.transport;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.handler.timeout.IdleStateHandler;
import io.quarkus.websockets.next.WebSocketConnection;
import io.vertx.core.net.impl.ConnectionBase;

import dev.copresence.channel.Session;
import dev.copresence.flow.Frame;
import dev.copresence.flow.InboundQueue;
import dev.copresence.flow.OutboundQueue;

/**
 * One open WebSocket as the node holds it: its session, when it was last pinged, how its reading is
 * paused ({@link InboundQueue.Reader}), and its outbound queue's way to the socket: straight to its
 * Netty channel, below websockets-next. All of it in one object because tens of thousands of
 * connections sit idle, and each object more is a header and a reference more for every one of them.
 *
 * <p>The outbound side:
 * {@code sendText} would encode the text again for every socket, complete a future per frame through
 * Mutiny, and flush each frame with its own system call; a fan-out to thousands of sockets is
 * dominated by exactly that. Here each frame is already a whole WebSocket frame, the same bytes for
 * every socket, written below the channel's frame encoder: nothing is encoded or allocated per
 * socket but the buffer's wrapper. Writes are not flushed until the queue has written all it holds,
 * and the channel's own bounded buffer (its write-buffer water marks) says when to stop.
 */
final class SocketSink implements OutboundQueue.Sink, InboundQueue.Reader {
    /** A final ping frame (opcode 9) without payload: servers do not mask (RFC 6455 §5.5.2). */
    private static final byte[] PING = { (byte) 0x89, 0 };

    /** The name Vert.x gives the HTTP idle timeout's handler in a connection's pipeline. */
    private static final String VERTX_IDLE_HANDLER = "idle";
    /*
     * What a socket closing past its deadline does, set once by Connections at start: one node's
     * setting for all its sockets, kept here rather than in fields that every idle connection would carry.
     */
    /** {@code outbound.close-deadline}. */
    private static volatile long closeDeadlineNanos = TimeUnit.SECONDS.toNanos(10);
    /** Ends the session of a socket reset at its deadline (or ended after a refused frame). */
    private static volatile Consumer<WebSocketConnection> whenReset = connection -> {
    };
    /** How long a connection whose frame the decoder refused stays open after its close frame. */
    private static final long REFUSED_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final WebSocketConnection connection;
    /** The HTTP connection under the socket: pausing it is the only way to stop reading a WebSocket in 3.34. */
    private final ConnectionBase tcp;
    private final Channel channel;
    /** Where frames enter the channel: below the frame encoder, above TLS where there is TLS. */
    private final ChannelWriter writer;
    private final SocketMetrics metrics;
    /** Null until the client's first ping (browsers send none). */
    private ClientPings clientPings;
    /** Set once, before the socket is registered: whoever finds it registered sees it. */
    private Session session;
    /**
     * Read and written by the liveness tick only, which visits every connection every second: the time
     * of the last ping lives here, with the session it reads, rather than in another object, which
     * would be one more cache miss per connection per tick when there are thousands.
     */
    private long lastPingNanos;

    /**
     * @param decoder the channel's WebSocket frame decoder, above which text is checked as UTF-8
     * @param waterMarks the socket buffer's bounds, one object for every socket of the node (it is
     *        immutable): one each was 24 bytes more per idle connection
     */
    SocketSink(WebSocketConnection connection, ConnectionBase tcp, ChannelHandlerContext decoder, SocketMetrics metrics,
            WriteBufferWaterMark waterMarks, long pingPeriodNanos) {
        this.lastPingNanos = firstPingBase(System.nanoTime(), pingPeriodNanos, ThreadLocalRandom.current());
        this.connection = connection;
        this.tcp = tcp;
        this.channel = tcp.channelHandlerContext().channel();
        ChannelHandlerContext encoder = channel.pipeline().context(WebSocketFrameEncoder.class);
        // without one (not seen on Vert.x 4.5) the frame's bytes pass every handler: an encoder lets bytes through
        this.writer = new ChannelWriter(encoder != null ? encoder : tcp.channelHandlerContext());
        this.metrics = metrics;
        // right above the frame decoder. Compression is never negotiated (NoWebSocketCompression): an
        // inflater would sit above this, which would then check compressed bytes
        channel.pipeline().addAfter(decoder.name(), Utf8Frames.NAME, new Utf8Frames(this));
        channel.config().setWriteBufferWaterMark(waterMarks);
    }

    static void closeDeadline(Duration deadline, Consumer<WebSocketConnection> sessionEnd) {
        closeDeadlineNanos = deadline.toNanos();
        whenReset = sessionEnd;
    }

    /** The session this socket serves; called once, before the socket is registered. */
    void attach(Session session) {
        this.session = session;
    }

    Session session() {
        return session;
    }

    /**
     * When a socket that opens at {@code nowNanos} counts as last pinged: a random moment of the period
     * before. Sockets that open together (a join storm, every client of a node reconnecting after a
     * deploy) are then pinged over the whole period, a share at each tick, and go on so for as long as
     * they stay, instead of all at one tick of every period: a burst of thousands of pings and pongs
     * that holds up whatever the event loops had to send then.
     */
    static long firstPingBase(long nowNanos, long periodNanos, RandomGenerator random) {
        return periodNanos > 0 ? nowNanos - random.nextLong(periodNanos) : nowNanos;
    }

    /** True, once per period, when {@code periodNanos} have passed since the last ping: the tick then pings. */
    boolean pingDue(long nowNanos, long periodNanos) {
        if (nowNanos - lastPingNanos < periodNanos) {
            return false;
        }
        lastPingNanos = nowNanos;
        return true;
    }

    /** Stops reading the client (its inbound queue is full, or its pings pile up behind a full socket): TCP pushes back. */
    @Override
    public void pause() {
        tcp.doPause();
    }

    /** Reads the client again. */
    @Override
    public void resume() {
        tcp.doResume();
    }

    /**
     * Removes the timer Vert.x gave the connection for the HTTP idle timeout (a handler, its pipeline
     * context and a scheduled task: 0.24 KiB of heap per socket). Once the socket is open and its
     * session registered, silence is the liveness tick's to close (4408), and a close that cannot
     * get its frame out is ended by {@link #closeWithinDeadline}: the timer would add nothing.
     */
    void dropHttpIdleTimer() {
        if (channel.pipeline().get(VERTX_IDLE_HANDLER) instanceof IdleStateHandler idle) {
            channel.pipeline().remove(idle);
        }
    }

    /**
     * Ends the TCP connection if it is still open {@code outbound.close-deadline} after a close began.
     * A close frame waits behind whatever the client has not read, and Vert.x's own closing timeout
     * starts only once the frame has left: a client that stops reading, and keeps its window shut,
     * would otherwise hold its socket, and its session, for good. The connection is then reset (no
     * linger), which frees what the kernel still held for it, and its session ends at once: with a
     * close frame still waiting, Vert.x reports the connection closed only at its own closing timeout,
     * 10 s later (seen on 4.5), and the client's members would stay that long. A task only while a socket closes: it
     * goes when the channel closes, so that it does not keep a closed socket's objects for the
     * deadline (many a second when clients reconnect in droves).
     */
    void closeWithinDeadline() {
        endAfter(closeDeadlineNanos, channel, true);
    }

    /**
     * The frame decoder refused what the client sent (a frame over the message limit, one that breaks
     * RFC 6455): a close frame of the decoder's code goes out below the session, as the last thing
     * written (Vert.x would end the TCP connection without one), and the connection ends a second
     * later whatever the client does: it may still be sending the refused frame, which the decoder
     * drops, and ending under it would lose the close frame with the connection. It ends below
     * Vert.x's WebSocket ({@code below}, the handler that refused), which would otherwise answer the
     * close with a close frame of its own and wait 10 s for the client's. On the socket's thread.
     */
    void refuse(ChannelHandlerContext below, int code, String reason) {
        Session s = session;
        if (s != null) {
            s.out().discard(); // nothing queued or offered after this goes out
        }
        channel.writeAndFlush(new CloseWebSocketFrame(code, reason));
        endAfter(REFUSED_GRACE_NANOS, below, false);
    }

    /** Ends the TCP connection (closed through {@code closer}) and the session in {@code nanos} unless the channel closes first. */
    private void endAfter(long nanos, ChannelOutboundInvoker closer, boolean reset) {
        if (!channel.isActive()) {
            return;
        }
        try {
            ScheduledFuture<?> deadline = channel.eventLoop().schedule(() -> {
                if (reset) {
                    channel.config().setOption(ChannelOption.SO_LINGER, 0);
                }
                closer.close();
                Consumer<WebSocketConnection> end = whenReset;
                tcp.getContext().runOnContext(v -> end.accept(connection));
            }, nanos, TimeUnit.NANOSECONDS);
            channel.closeFuture().addListener(closed -> deadline.cancel(false));
        } catch (RejectedExecutionException shuttingDown) {
            // the event loop is stopping, and closes its channels as it goes
        }
    }

    /**
     * Always a task, also on the socket's own thread: a fan-out then hands every socket its frame
     * first and each socket writes what it has been handed by the time its task runs, so events that
     * arrive together go out in one system call per socket. Writing at once on the same thread saved
     * little at moderate rates and, under a cursor storm, cost a system call per frame: p99 rose from
     * 9 to 59 ms at 796,000 deliveries/s (docs/benchmarks.md).
     */
    @Override
    public void execute(Runnable task) {
        channel.eventLoop().execute(task);
    }

    @Override
    public void executeLater(Runnable task, long delayMillis) {
        channel.eventLoop().schedule(task, delayMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * Every close the server asks for goes through the queue (which then writes nothing more), and a
     * close Netty or Vert.x make on their own (a protocol error, a client's close frame) ends the TCP
     * connection right after its frame: the channel's state is enough, and costs no lock per delivery.
     */
    @Override
    public boolean open() {
        return channel.isActive();
    }

    @Override
    public boolean writable() {
        return channel.isWritable();
    }

    @Override
    public void write(Frame frame) {
        metrics.sent(frame);
        writer.write(frame);
    }

    @Override
    public void flush() {
        writer.flush();
    }

    @Override
    public void whenFlushed(Runnable then) {
        writer.whenFlushed(then);
    }

    /**
     * Pings the client, on the socket's thread. websockets-next's auto-ping would give every connection
     * a timer of its own, firing on its own schedule: a wake-up per ping, and a timer's objects per idle
     * connection. Instead the liveness tick pings every socket that is due at once, a period rounded to
     * the tick. A socket that is full (its client is not reading) or closing gets no ping: nothing may
     * follow a close frame, and a ping behind a full buffer proves nothing sooner.
     */
    void ping() {
        channel.eventLoop().execute(this::pingNow);
    }

    private void pingNow() {
        if (channel.isActive() && channel.isWritable() && connection.isOpen()) {
            writer.writeAndFlush(Unpooled.wrappedBuffer(PING));
        }
    }

    /** The client's pings, made at the first; on the socket's event loop, where its control frames are handled. */
    ClientPings clientPings(Supplier<ClientPings> first) {
        if (clientPings == null) {
            clientPings = first.get();
        }
        return clientPings;
    }

    WebSocketConnection connection() {
        return connection;
    }

    @Override
    public void close(int code, String reason) {
        Connections.close(connection, code, reason);
        closeWithinDeadline();
    }
}
