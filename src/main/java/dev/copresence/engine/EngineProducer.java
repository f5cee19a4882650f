package dev.copresence.engine;

import java.time.Clock;
import java.util.Optional;
import java.util.UUID;

import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.redis.client.Redis;

import dev.copresence.config.CopresenceConfig;
import dev.copresence.engine.memory.MemoryEngine;
import dev.copresence.engine.redis.RedisEngineFactory;

/**
 * Chooses the engine once, at start-up: Redis when {@code quarkus.redis.hosts} is set, else the
 * in-memory one. The Redis client beans are looked up only in the first case, so that a node without
 * Redis never tries to reach one.
 */
public final class EngineProducer {
    private static final Logger LOG = Logger.getLogger(EngineProducer.class);

    @Produces
    @Singleton
    Engine engine(CopresenceConfig config, @ConfigProperty(name = "quarkus.redis.hosts") Optional<String> hosts,
            @ConfigProperty(name = "quarkus.redis.client-type", defaultValue = "standalone") String clientType,
            Instance<ReactiveRedisDataSource> dataSource, Instance<Redis> redis, Vertx vertx, MeterRegistry metrics) {
        String nodeId = config.nodeId().orElseGet(() -> "n-" + UUID.randomUUID().toString().substring(0, 8));
        if (hosts.isEmpty() || hosts.get().isBlank()) {
            LOG.infof("Copresence node %s: in-memory registry (single node; set quarkus.redis.hosts for a cluster)", nodeId);
            return new MemoryEngine(config.history().size(), config.history().ttl(), config.history().memory(), Clock.systemUTC()).asEngine();
        }
        boolean sharded = "cluster".equalsIgnoreCase(clientType);
        LOG.infof("Copresence node %s: Redis registry (%s%s)", nodeId, clientType, sharded ? ", sharded pub/sub" : "");
        return RedisEngineFactory.create(nodeId, config, sharded, dataSource.get(), redis.get(),
                vertx.getDelegate().getOrCreateContext(), Clock.systemUTC(), metrics);
    }
}
