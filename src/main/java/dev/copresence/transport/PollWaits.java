package dev.copresence.transport;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.inject.Singleton;

/**
 * The long polls waiting on this node, so that a shutdown answers them (with nothing new, from where
 * they stand) rather than cutting their connections: the client polls again, and the load balancer
 * sends it to another node. A poll that starts waiting once the node drains is answered at once.
 */
@Singleton
public final class PollWaits {
    private final Set<Runnable> waiting = ConcurrentHashMap.newKeySet();
    private volatile boolean answering;

    /** A wait begins: {@code answerNow} ends it (at once when the node already drains). */
    void add(Runnable answerNow) {
        waiting.add(answerNow);
        if (answering) {
            answerNow.run();
        }
    }

    boolean answering() {
        return answering;
    }

    /** A wait ended, answered or not. */
    void remove(Runnable answerNow) {
        waiting.remove(answerNow);
    }

    /** The node drains: every wait is answered now, and every later one at once. */
    void answerAll() {
        answering = true;
        waiting.forEach(Runnable::run);
    }
}
