package dev.copresence.engine.memory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import dev.copresence.engine.UserStatus;

/**
 * Who is online on a single node: each user's open connections and when the last one closed. A user's
 * count, lastSeen and announcement change under the user's lock, so that two of the user's connections
 * opening and closing at once on different threads announce in the order they counted. Apart from
 * {@link MemoryEngine}'s documents: a user's status shares no lock with any document.
 */
final class MemoryUserStatus {
    private final Map<String, Integer> connections = new ConcurrentHashMap<>();
    private final Map<String, Long> lastSeen = new ConcurrentHashMap<>();
    /** Striped by user. */
    private final Object[] userLocks = new Object[64];
    private final Clock clock;
    private final Consumer<UserStatus> announce;

    MemoryUserStatus(Clock clock, Consumer<UserStatus> announce) {
        this.clock = clock;
        this.announce = announce;
        for (int i = 0; i < userLocks.length; i++) {
            userLocks[i] = new Object();
        }
    }

    private Object lockOf(String user) {
        return userLocks[user.hashCode() & (userLocks.length - 1)];
    }

    void connected(String user) {
        synchronized (lockOf(user)) {
            if (connections.merge(user, 1, Integer::sum) == 1) {
                announce.accept(new UserStatus(user, true, lastSeen.get(user)));
            }
        }
    }

    void disconnected(String user) {
        synchronized (lockOf(user)) {
            Integer left = connections.computeIfPresent(user, (u, n) -> n > 1 ? n - 1 : null);
            if (left == null) {
                // only forward, as on Redis: watchers order a user's changes by lastSeen
                long now = lastSeen.merge(user, clock.millis(), (before, clockNow) -> Math.max(clockNow, before + 1));
                announce.accept(new UserStatus(user, false, now));
            }
        }
    }

    List<UserStatus> status(List<String> users) {
        List<UserStatus> result = new ArrayList<>(users.size());
        for (String user : users) {
            synchronized (lockOf(user)) {
                result.add(new UserStatus(user, connections.containsKey(user), lastSeen.get(user)));
            }
        }
        return result;
    }
}
