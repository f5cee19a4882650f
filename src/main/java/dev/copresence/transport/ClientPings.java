package dev.copresence.transport;

import dev.copresence.flow.RateLimiter;

/**
 * What a connection's client pings cost it. Vert.x answers every WebSocket ping with a pong by
 * itself, whether or not the client reads them, so pings are not free to a client: they have a
 * token bucket of their own (the contract's rate limit is for messages), and pings that keep
 * arriving while the socket is full tell the node to stop reading the client until it has taken
 * what was written. Made at a connection's first ping (browsers never send one); used on the
 * connection's event loop only.
 */
final class ClientPings {
    /** Pings that find the socket full before reading waits: one now and then is a slow reader's keep-alive. */
    static final int PILE_UP = 8;

    private final RateLimiter rate;
    private int whileFull;

    /** @param limit the node's, shared: a client's pings are counted in a bucket of their own */
    ClientPings(RateLimiter.Limit limit) {
        this.rate = new RateLimiter(limit);
    }

    /** Takes a token for a ping; false when the client pings over its rate. */
    boolean withinRate() {
        return rate.tryAcquire();
    }

    /** More refusals than the burst within ten seconds: a flood, not a burst. */
    boolean flooding() {
        return rate.abusive();
    }

    /** Counts a ping against the socket's state; true when pings have piled up behind a full socket. */
    boolean pileUp(boolean socketWritable) {
        if (socketWritable) {
            whileFull = 0;
            return false;
        }
        return ++whileFull % PILE_UP == 0;
    }
}
