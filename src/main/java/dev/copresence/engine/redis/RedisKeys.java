package dev.copresence.engine.redis;

/**
 * Key and channel names. Every key of a document carries the document in a hash tag, so on Redis
 * Cluster they share one slot and one script may touch them together.
 */
final class RedisKeys {
    static final String STATUS_CHANNEL = "cp:status";
    /** Prefix of the channel each node publishes to itself, to know it still hears Redis ({@link Hearing}). */
    static final String ECHO_CHANNEL_PREFIX = "cp:echo:";

    private RedisKeys() {
    }

    static String members(String doc) {
        return "cp:{" + doc + "}:members";
    }

    static String expiry(String doc) {
        return "cp:{" + doc + "}:expiry";
    }

    static String log(String doc) {
        return "cp:{" + doc + "}:log";
    }

    static String reaped(String doc) {
        return "cp:{" + doc + "}:reaped";
    }

    static String events(String doc) {
        return "cp:{" + doc + "}:events";
    }

    /** The document of an events channel name. */
    static String docOfChannel(String channel) {
        return channel.substring("cp:{".length(), channel.length() - "}:events".length());
    }

    /** Sorted set: node name ({@link Incarnation}) -> lease expiry (epoch ms); any node reaps the ones past it. */
    static final String NODES = "cp:nodes";

    static String nodeLease(String node) {
        return "cp:node:{" + node + "}";
    }

    static String nodeDocs(String node) {
        return "cp:node:{" + node + "}:docs";
    }

    static String nodeUsers(String node) {
        return "cp:node:{" + node + "}:users";
    }

    static String nodeReaper(String node) {
        return "cp:node:{" + node + "}:reaper";
    }

    static String user(String user) {
        return "cp:user:{" + user + "}";
    }

    static String userSeen(String user) {
        return "cp:user:{" + user + "}:seen";
    }
}
