package dev.copresence.channel;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.inject.Singleton;

import io.smallrye.mutiny.Uni;

import dev.copresence.engine.Registry;
import dev.copresence.engine.UserStatus;

/**
 * Who on this node follows which user's online status: sessions that sent {@code watch}, and
 * read-only observers (SSE streams). Both are attached before the current status is read, so no
 * change falls between the read and the changes; what arrives meanwhile is held until the answer.
 */
@Singleton
public final class StatusWatchers {
    private final Map<String, Set<Session>> watchers = new ConcurrentHashMap<>();
    private final Map<Session, List<UserStatus>> heldStatus = new ConcurrentHashMap<>();
    private final Map<String, Set<StatusObserver>> statusObservers = new ConcurrentHashMap<>();
    /** Every observer once (they are filed under each of their users above): what the gauge counts. */
    private final Set<StatusObserver> observing = ConcurrentHashMap.newKeySet();
    /** The newest status this node knows of each watched user: what a catch-up after a bus gap compares to. */
    private final Map<String, UserStatus> lastKnown = new ConcurrentHashMap<>();

    /**
     * Starts delivering status changes of {@code users} to the session. Changes that arrive before the
     * current status is answered are held, then sent after it if they are newer ({@link #answerStatus}).
     */
    void watch(Session session, List<String> users) {
        heldStatus.putIfAbsent(session, new ArrayList<>());
        for (String user : users) {
            watchers.computeIfAbsent(user, u -> ConcurrentHashMap.newKeySet()).add(session);
            session.watching().add(user);
        }
    }

    /**
     * Answers a watch: each user's current status, then the changes held meanwhile that came after it.
     * A held change may be older than the answer (on Redis the status is read over one connection and
     * changes arrive over another), and sent after it, it would show the user's previous status.
     */
    void answerStatus(Session session, List<UserStatus> current) {
        Map<String, UserStatus> known = new HashMap<>();
        for (UserStatus status : current) {
            know(status);
            known.put(status.user(), status);
            send(session, status);
        }
        releaseHeld(session, known);
    }

    /** A watch whose status could not be read: its users are not watched, changes of the others pass. */
    void abandonWatch(Session session, List<String> users) {
        unwatch(session, users);
        releaseHeld(session, new HashMap<>());
    }

    private void releaseHeld(Session session, Map<String, UserStatus> known) {
        List<UserStatus> held = heldStatus.get(session);
        if (held == null) {
            return;
        }
        synchronized (held) {
            try {
                for (UserStatus status : held) {
                    if (session.watched().contains(status.user()) && status.isNewerThan(known.get(status.user()))) {
                        known.put(status.user(), status);
                        send(session, status);
                    }
                }
            } finally {
                heldStatus.remove(session);
            }
        }
    }

    void unwatch(Session session, Iterable<String> users) {
        for (String user : users) {
            session.watched().remove(user);
            watchers.computeIfPresent(user, (u, sessions) -> {
                sessions.remove(session);
                return sessions.isEmpty() ? null : sessions;
            });
            forgetUnwatched(user);
        }
    }

    /** Starts delivering status changes to a read-only observer; read the current status after this. */
    public void observeStatus(StatusObserver observer) {
        observing.add(observer);
        for (String user : observer.users) {
            statusObservers.computeIfAbsent(user, u -> ConcurrentHashMap.newKeySet()).add(observer);
        }
    }

    /** Answers an observer with the current status of its users (remembered, as a watch's answer is, for a catch-up). */
    public void answerObserver(StatusObserver observer, List<UserStatus> current) {
        current.forEach(this::know);
        observer.activate(current);
    }

    /** Stops an observer; more than once (a stream's end and its connection's close) is the same as once. */
    public void unobserveStatus(StatusObserver observer) {
        observer.close();
        observing.remove(observer);
        for (String user : observer.users) {
            statusObservers.computeIfPresent(user, (u, set) -> {
                set.remove(observer);
                return set.isEmpty() ? null : set;
            });
            forgetUnwatched(user);
        }
    }

    /** Read-only observers of status open here (SSE streams). */
    public int statusObservers() {
        return observing.size();
    }

    /** Stops remembering a user's status once nobody here follows it (a watch started meanwhile answers afresh). */
    private void forgetUnwatched(String user) {
        if (!followed(user)) {
            lastKnown.remove(user);
        }
    }

    private void know(UserStatus status) {
        if (followed(status.user())) {
            lastKnown.merge(status.user(), status, (old, now) -> now.isNewerThan(old) ? now : old);
        }
    }

    private boolean followed(String user) {
        return watchers.containsKey(user) || statusObservers.containsKey(user);
    }

    /**
     * After a bus gap: reads the status of every user followed here, and passes on those that changed
     * while the node could not hear (changes heard since are newer, and win).
     */
    Uni<Void> catchUp(Registry registry) {
        List<String> users = new ArrayList<>(watchers.keySet());
        statusObservers.keySet().stream().filter(u -> !watchers.containsKey(u)).forEach(users::add);
        if (users.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return registry.status(users).invoke(current -> current.forEach(status -> {
            synchronized (lastKnown) {
                if (status.isNewerThan(lastKnown.get(status.user()))) {
                    onStatus(status);
                }
            }
        })).replaceWithVoid();
    }

    /** A user's status changed: to each observer and each watching session, held while a watch is answered. */
    void onStatus(UserStatus status) {
        // one at a time: a catch-up compares what it read with what was delivered, and is not overtaken
        synchronized (lastKnown) {
            if (followed(status.user())) {
                lastKnown.put(status.user(), status);
            }
            deliver(status);
        }
    }

    private void deliver(UserStatus status) {
        Set<StatusObserver> observers = statusObservers.get(status.user());
        if (observers != null) {
            observers.forEach(o -> o.deliver(status));
        }
        Set<Session> sessions = watchers.get(status.user());
        if (sessions == null) {
            return;
        }
        for (Session session : sessions) {
            List<UserStatus> held = heldStatus.get(session);
            if (held != null) {
                synchronized (held) {
                    if (heldStatus.get(session) == held) {
                        held.add(status);
                        continue;
                    }
                }
            }
            send(session, status);
        }
    }

    private static void send(Session session, UserStatus status) {
        session.send(status.message());
    }
}
