package dev.copresence.channel;

import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.copresence.flow.Backlog;
import dev.copresence.flow.Frame;
import dev.copresence.flow.InboundQueue;
import dev.copresence.flow.OutboundQueue;
import dev.copresence.flow.RateLimiter;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ServerMessage;
import dev.copresence.protocol.UserRef;
import dev.copresence.security.IdPatterns;
import dev.copresence.security.Tokens;

/**
 * One client connection, whatever its transport: who it is, the documents it is a member of, the
 * users it watches, and its outbound queue. Commands of one connection run one after another (the
 * transport guarantees it), so the fields only commands change need no lock.
 */
public final class Session {
    /** Closes the underlying connection with a WebSocket close code. */
    public interface Closer {
        void close(int code, String reason);
    }

    private final String id;
    private final String boundDoc;
    private final OutboundQueue out;
    private final Closer closer;
    private final RateLimiter rate;
    private final InboundQueue inbound;
    /**
     * The documents it is a member of: an immutable map, replaced on a join or a leave and read from
     * any thread without a lock. The usual connection is a member of one document and tens of
     * thousands of them sit idle: a one-entry map is 24 bytes, a ConcurrentHashMap with its table and
     * node about 120.
     */
    private volatile Map<String, LocalMember> memberships = Map.of();
    private volatile Set<String> watched;
    private volatile UserRef user;
    private volatile Tokens.Grant grant;
    private volatile boolean userOnline;
    private volatile long lastReceived = System.nanoTime();
    private volatile long tokenExpiresAt = Long.MAX_VALUE;
    /** Closed for silence (4408): its members leave with reason timeout. */
    private volatile boolean timedOut;
    private int badInRow;
    private boolean closed;

    public Session(String id, String boundDoc, OutboundQueue out, Closer closer, RateLimiter rate, InboundQueue inbound) {
        this.id = id;
        this.boundDoc = boundDoc;
        this.out = out;
        this.closer = closer;
        this.rate = rate;
        this.inbound = inbound;
    }

    /** The connection's inbound work, run in arrival order one message at a time. */
    public InboundQueue inbound() {
        return inbound;
    }

    public String id() {
        return id;
    }

    /** The document of the bound endpoint, or null on the multiplexed one. */
    public String boundDoc() {
        return boundDoc;
    }

    public UserRef user() {
        return user;
    }

    void user(UserRef user) {
        this.user = user;
    }

    /** In jwt mode the token names the user; a {@code user} in {@code join} is then ignored. */
    boolean userFixedByAuth() {
        return grant != null;
    }

    /** The documents this connection may join (any, without a token's {@code docs} claim). */
    IdPatterns documents() {
        Tokens.Grant g = grant;
        return g == null ? IdPatterns.ANY : g.docs();
    }

    /** The users whose status this connection may watch (any, without a token's {@code watch} claim). */
    IdPatterns watchable() {
        Tokens.Grant g = grant;
        return g == null ? IdPatterns.ANY : g.watch();
    }

    /** Sets (or refreshes) the token's grant: the connection closes with 4401 at its expiry. */
    public void grant(Tokens.Grant grant) {
        this.grant = grant;
        this.tokenExpiresAt = grant.expiresAt();
    }

    Tokens.Grant grant() {
        return grant;
    }

    boolean userOnline() {
        return userOnline;
    }

    void userOnline(boolean online) {
        this.userOnline = online;
    }

    public void send(ServerMessage message) {
        out.offer(Codec.encode(message));
    }

    /**
     * A document's members ({@code joined}): as large as the document, which may be more than the send
     * buffer holds, so it is written at the socket's pace (a backlog) rather than count as too much.
     */
    void sendSnapshot(String doc, ServerMessage message) {
        out.offerBacklog(Backlog.of(doc, List.of(), Codec.encode(message)));
    }

    void sendFrame(Frame frame, Object key) {
        out.offer(frame, key);
    }

    public OutboundQueue out() {
        return out;
    }

    public RateLimiter rate() {
        return rate;
    }

    /** The memberships as they are now; a join or a leave after this call does not change it. */
    Map<String, LocalMember> memberships() {
        return memberships;
    }

    /**
     * Adds a membership unless the session is closed: false then, for its goodbye has run and would
     * not take this one away (a join that waited behind another while the socket closed).
     */
    synchronized boolean addMembership(String doc, LocalMember local) {
        if (closed) {
            return false;
        }
        Map<String, LocalMember> next = new HashMap<>(memberships);
        next.put(doc, local);
        memberships = Map.copyOf(next);
        return true;
    }

    /** Removes the document's membership if it is still {@code local} (a join may have replaced it). */
    synchronized void removeMembership(String doc, LocalMember local) {
        if (memberships.get(doc) != local) {
            return;
        }
        Map<String, LocalMember> next = new HashMap<>(memberships);
        next.remove(doc);
        memberships = Map.copyOf(next);
    }

    /** The users this connection watches: an empty set that takes nothing until the first {@link #watching()}. */
    Set<String> watched() {
        Set<String> set = watched;
        return set == null ? Collections.emptySet() : set;
    }

    /** The users this connection watches, to add to. */
    Set<String> watching() {
        Set<String> set = watched;
        if (set == null) {
            synchronized (this) {
                set = watched;
                if (set == null) {
                    set = ConcurrentHashMap.newKeySet();
                    watched = set;
                }
            }
        }
        return set;
    }

    /** Counts a bad message; true when the limit is reached and the connection must close. */
    boolean bad(int limit) {
        return ++badInRow >= limit;
    }

    void good() {
        badInRow = 0;
    }

    public void touch() {
        lastReceived = System.nanoTime();
    }

    public long lastReceivedNanos() {
        return lastReceived;
    }

    public long tokenExpiresAt() {
        return tokenExpiresAt;
    }

    public void close(int code, String reason) {
        closer.close(code, reason);
    }

    /**
     * Closes a connection nothing was heard from for the idle timeout (4408). Its members leave with
     * reason {@code timeout}, as those of a node that went silent do: they did not leave, nor did
     * their client close; they stopped answering.
     */
    public void closeIdle(String reason) {
        // only if this 4408 is the first close (the tick finds a session again while its close frame
        // cannot get out; a 1013 may have come first): set before the close, its goodbye reads it
        out.close(4408, reason, () -> timedOut = true);
    }

    /** The reason of its members' leaves when the connection is gone. */
    String goneReason() {
        return timedOut ? "timeout" : "closed";
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /** Marks the session closed; true only the first time, so that its goodbye happens once. */
    synchronized boolean markClosed() {
        if (closed) {
            return false;
        }
        closed = true;
        out.discard();
        return true;
    }
}
