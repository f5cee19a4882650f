package dev.copresence.engine.redis;

/**
 * What the Redis engine needs from the configuration, as the strings its scripts take, and the name
 * the node writes under ({@link Incarnation#current()}, which changes if its lease is lost).
 */
record RedisSettings(Incarnation incarnation, String publishCommand, String subscribeCommand, String unsubscribeCommand,
        long presenceTtlMs, String presenceKeyTtlMs, String historySize, String historyTtlMs) {

    /** Sharded pub/sub (Redis Cluster): a document's channel lives in its slot. */
    boolean sharded() {
        return "SSUBSCRIBE".equals(subscribeCommand);
    }
}
