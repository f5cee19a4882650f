package dev.copresence.channel;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

import dev.copresence.engine.UserStatus;

/**
 * A read-only observer of some users' online status (an SSE stream). It is attached before the
 * current status is read, so no change can fall between the two; changes that arrive before the
 * reader has that answer are held and pass only if they came after it; later, those that change what
 * the reader knows pass.
 */
public final class StatusObserver {
    final List<String> users;
    private final Consumer<UserStatus> sink;
    private final Map<String, UserStatus> last = new HashMap<>();
    private List<UserStatus> pending = new ArrayList<>();
    private boolean closed;

    public StatusObserver(List<String> users, Consumer<UserStatus> sink) {
        this.users = List.copyOf(users);
        this.sink = sink;
    }

    synchronized void deliver(UserStatus status) {
        if (closed) {
            return;
        }
        if (pending != null) {
            pending.add(status);
            return;
        }
        pass(status);
    }

    private void pass(UserStatus status) {
        if (Objects.equals(last.put(status.user(), status), status)) {
            return;
        }
        sink.accept(status);
    }

    /**
     * Sends the current status of each user, then what changed meanwhile and came after it, then every
     * later change. Held changes may predate the answer (it is read over another connection than the
     * one changes come by), so they are ordered against it. Later ones are not: a user's changes
     * arrive in the order they were made, so the last one a reader gets is the user's status, and
     * ordering them against what the reader knows would hide the changes of a Redis that restarted
     * empty and forgot {@code lastSeen}.
     */
    public synchronized void activate(List<UserStatus> current) {
        if (closed || pending == null) {
            return;
        }
        current.forEach(this::pass);
        List<UserStatus> held = pending;
        pending = null;
        for (UserStatus status : held) {
            if (status.isNewerThan(last.get(status.user()))) {
                pass(status);
            }
        }
    }

    public synchronized void close() {
        closed = true;
        pending = null;
    }
}
