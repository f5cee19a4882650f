package dev.copresence.flow;

/**
 * Token bucket of one connection: {@code rate} messages per second, bursts up to {@code burst}.
 * Used by one connection's commands, which run one at a time, so it needs no lock.
 */
public final class RateLimiter {
    /**
     * A rate and a burst, one object for every connection of a node: kept in each bucket, the two
     * were 16 bytes more per idle connection.
     */
    public record Limit(double perNano, double burst) {
        public Limit(int rate, int burst) {
            this(rate / 1e9, Math.max(1, burst));
        }
    }

    private final Limit limit;
    /** Refusals are counted over this window to tell a burst from persistent abuse. */
    private static final long ABUSE_WINDOW_NANOS = 10_000_000_000L;

    private double tokens;
    private long last;
    private int rejectedInRow;
    private int rejectedInWindow;
    private long windowStart;

    public RateLimiter(int rate, int burst) {
        this(new Limit(rate, burst));
    }

    public RateLimiter(Limit limit) {
        this.limit = limit;
        this.tokens = limit.burst();
        this.last = System.nanoTime();
    }

    /** Takes a token; false when the connection is over its rate. */
    public boolean tryAcquire() {
        long now = System.nanoTime();
        tokens = Math.min(limit.burst(), tokens + (now - last) * limit.perNano());
        last = now;
        if (tokens >= 1) {
            tokens -= 1;
            rejectedInRow = 0;
            return true;
        }
        rejectedInRow++;
        if (now - windowStart > ABUSE_WINDOW_NANOS) {
            windowStart = now;
            rejectedInWindow = 0;
        }
        rejectedInWindow++;
        return false;
    }

    /** Messages refused in a row. */
    public int rejectedInRow() {
        return rejectedInRow;
    }

    /**
     * Persistent abuse: more refusals within ten seconds than the burst allows, whether or not the
     * odd message got through between them (a flood keeps earning a token now and then).
     */
    public boolean abusive() {
        return rejectedInWindow > limit.burst();
    }
}
