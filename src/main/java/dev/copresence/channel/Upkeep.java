package dev.copresence.channel;

import java.util.List;
import java.util.Map;

import jakarta.inject.Singleton;

import org.jboss.logging.Logger;

import io.quarkus.scheduler.Scheduled;

import dev.copresence.engine.Engine;

/**
 * The node's periodic work: renewing its members (one engine call per document, whatever the number
 * of members) and the engine's housekeeping.
 */
@Singleton
public final class Upkeep {
    private static final Logger LOG = Logger.getLogger(Upkeep.class);

    private final Engine engine;
    private final Hubs hubs;

    public Upkeep(Engine engine, Hubs hubs) {
        this.engine = engine;
        this.hubs = hubs;
    }

    @Scheduled(every = "${copresence.presence.renew-interval:10s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void renew() {
        for (Map.Entry<String, List<String>> doc : hubs.localMembers().entrySet()) {
            engine.registry().renew(doc.getKey(), doc.getValue()).subscribe().with(ok -> {
            }, failure -> LOG.debugf("renewal of %s failed: %s", doc.getKey(), failure.getMessage()));
        }
        engine.housekeeping().run();
    }
}
