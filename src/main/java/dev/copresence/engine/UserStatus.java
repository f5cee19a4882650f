package dev.copresence.engine;

import dev.copresence.protocol.ServerMessage;

/**
 * Online status of one user across the cluster; {@code lastSeen} null for a user never seen.
 *
 * <p>A user's changes are ordered by their status alone: going offline stamps a {@code lastSeen}
 * later than the one before (the engines make it strictly later, whatever the nodes' clocks say),
 * and coming online carries the {@code lastSeen} of the offline it ends. So offline at T sorts
 * before online with T, which sorts before offline at any later T.
 */
public record UserStatus(String user, boolean online, Long lastSeen) {

    /**
     * Whether this change of the user came after {@code known}, so a reader holding {@code known} still
     * needs it; always, when the reader knows nothing of the user yet ({@code known} null).
     */
    public boolean isNewerThan(UserStatus known) {
        if (known == null) {
            return true;
        }
        long mine = lastSeen == null ? Long.MIN_VALUE : lastSeen;
        long theirs = known.lastSeen == null ? Long.MIN_VALUE : known.lastSeen;
        if (mine != theirs) {
            return mine > theirs;
        }
        return online && !known.online;
    }

    /** The {@code status} message a watching session or a status stream is sent. */
    public ServerMessage.Status message() {
        return new ServerMessage.Status(user, online, lastSeen);
    }
}
