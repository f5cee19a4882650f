package dev.copresence.engine.redis;

import java.time.Clock;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.mutiny.redis.client.Redis;

import io.quarkus.redis.datasource.ReactiveRedisDataSource;

import dev.copresence.config.CopresenceConfig;
import dev.copresence.engine.Engine;

/** Builds the Redis engine: registry and log over Lua scripts, bus over one pub/sub connection. */
public final class RedisEngineFactory {
    private RedisEngineFactory() {
    }

    /**
     * @param sharded use sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7), as on Redis Cluster
     */
    public static Engine create(String nodeId, CopresenceConfig config, boolean sharded, ReactiveRedisDataSource dataSource,
            Redis client, Context context, Clock clock, MeterRegistry metrics) {
        long ttl = config.presence().ttl().toMillis();
        // the log keeps history.size events and two places more: a resuming join's own event, which it
        // logs before its replay is read (as in memory), and the entry of its since, which replay.lua
        // looks up to know the history still reaches it
        RedisSettings settings = new RedisSettings(new Incarnation(nodeId),
                sharded ? "SPUBLISH" : "PUBLISH", sharded ? "SSUBSCRIBE" : "SUBSCRIBE", sharded ? "SUNSUBSCRIBE" : "UNSUBSCRIBE",
                ttl, Long.toString(Math.max(3 * ttl, 60_000)), Integer.toString(config.history().size() + 2),
                Long.toString(config.history().ttl().toMillis()));
        RedisScripts scripts = new RedisScripts(dataSource, metrics);
        RedisBus bus = new RedisBus(client, scripts, settings, context, config.presence().renewInterval());
        RedisStatus status = new RedisStatus(scripts, settings, clock);
        RedisNodes nodes = new RedisNodes(scripts, settings, status, clock, bus::resync,
                metrics.counter("copresence.reaped.members"));
        RedisRegistry registry = new RedisRegistry(scripts, settings, status, nodes);
        return new Engine(registry, registry, bus);
    }
}
