package dev.copresence.engine;

/** Online status of one user across the cluster; {@code lastSeen} null for a user never seen. */
public record UserStatus(String user, boolean online, Long lastSeen) {
}
