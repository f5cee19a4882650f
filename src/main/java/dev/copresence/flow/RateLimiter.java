package dev.copresence.flow;

/**
 * Token bucket of one connection: {@code rate} messages per second, bursts up to {@code burst}.
 * Used by one connection's commands, which run one at a time, so it needs no lock.
 */
public final class RateLimiter {
    private final double perNano;
    private final double burst;
    private double tokens;
    private long last;
    private int rejectedInRow;

    public RateLimiter(int rate, int burst) {
        this.perNano = rate / 1e9;
        this.burst = Math.max(1, burst);
        this.tokens = this.burst;
        this.last = System.nanoTime();
    }

    /** Takes a token; false when the connection is over its rate. */
    public boolean tryAcquire() {
        long now = System.nanoTime();
        tokens = Math.min(burst, tokens + (now - last) * perNano);
        last = now;
        if (tokens >= 1) {
            tokens -= 1;
            rejectedInRow = 0;
            return true;
        }
        rejectedInRow++;
        return false;
    }

    /** Messages refused in a row: persistent abuse when it passes the burst. */
    public int rejectedInRow() {
        return rejectedInRow;
    }
}
