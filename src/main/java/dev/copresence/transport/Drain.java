package dev.copresence.transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.mutiny.Uni;

import dev.copresence.channel.Membership;
import dev.copresence.channel.Session;
import dev.copresence.engine.Engine;

/**
 * Graceful shutdown (SIGTERM, as Kubernetes sends it): stop taking upgrades and event streams, end
 * the event streams (their EventSources reconnect elsewhere with Last-Event-ID) and answer the long
 * polls waiting, let every local member leave at once with reason {@code closed} (others hear it
 * now, not after a TTL), then close every connection with 1001 so that clients reconnect to another
 * replica and resume.
 */
@Singleton
public final class Drain {
    private static final Logger LOG = Logger.getLogger(Drain.class);
    private static final Duration LEAVES_DEADLINE = Duration.ofSeconds(5);

    private final Connections connections;
    private final Membership membership;
    private final Engine engine;
    private final SseStreams streams;
    private final PollWaits polls;
    private volatile boolean draining;

    public Drain(Connections connections, Membership membership, Engine engine, SseStreams streams, PollWaits polls) {
        this.connections = connections;
        this.membership = membership;
        this.engine = engine;
        this.streams = streams;
        this.polls = polls;
    }

    public boolean draining() {
        return draining;
    }

    /**
     * Runs when shutdown begins, before the HTTP server closes the sockets itself (with 1000): the
     * shutdown delay ({@code quarkus.shutdown.delay-enabled}) exists to give us this moment.
     */
    void onShutdownBegins(@Observes ShutdownDelayInitiatedEvent event) {
        drain();
    }

    /** Fallback when the delay is disabled; does nothing when the drain already ran. */
    void onShutdown(@Observes @Priority(1) ShutdownEvent event) {
        drain();
    }

    private synchronized void drain() {
        if (draining) {
            return;
        }
        draining = true;
        // readers hold no members: they go to another node at once, where they resume
        streams.endAll();
        polls.answerAll();
        List<Session> sessions = connections.sessions();
        LOG.infof("draining %d connection(s)", sessions.size());
        List<Uni<Void>> goodbyes = new ArrayList<>();
        for (Session session : sessions) {
            goodbyes.add(membership.closed(session));
        }
        try {
            if (!goodbyes.isEmpty()) {
                Uni.join().all(goodbyes).andCollectFailures().await().atMost(LEAVES_DEADLINE);
            }
            engine.registry().goodbye().await().atMost(LEAVES_DEADLINE);
        } catch (RuntimeException e) {
            LOG.warnf("drain incomplete (%s): the rest will expire after the presence TTL", e.getMessage());
        }
        try {
            connections.closeAll(1001, "server going away: reconnect and resume").await().atMost(LEAVES_DEADLINE);
        } catch (RuntimeException e) {
            LOG.warnf("some connections did not close cleanly: %s", e.getMessage());
        }
        engine.bus().close();
    }
}
