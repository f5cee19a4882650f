package dev.copresence.support;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/** Starts a real Redis for a Quarkus test and points {@code quarkus.redis.hosts} at it. */
public class RedisResource implements QuarkusTestResourceLifecycleManager {
    private RedisServer redis;

    @Override
    public Map<String, String> start() {
        redis = RedisServer.start();
        return Map.of("quarkus.redis.hosts", redis.uri());
    }

    @Override
    public void stop() {
        if (redis != null) {
            redis.close();
        }
    }
}
