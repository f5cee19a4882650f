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
     * later change. Only held changes are ordered against what the reader knows: they may predate the
     * answer (read over another connection than the one changes come by), later ones arrive in order.
     */
    public synchronized void activate(List<UserStatus> current) {
        if (closed || pending == null) {
            return;
        }
        current.forEach(this::pass);
        List<UserStatus> held = pending;
        pending = null;
        for (UserStatus status : held) {
            UserStatus known = last.get(status.user());
            if (known == null || status.isNewerThan(known)) {
                pass(status);
            }
        }
    }

    public synchronized void close() {
        closed = true;
        pending = null;
    }
}
