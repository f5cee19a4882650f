package dev.copresence.support;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Starts a real Redis for a Quarkus test and points {@code quarkus.redis.hosts} at it. Its init
 * arguments are Redis settings ({@code stream-node-max-entries} = {@code 1}: trimming is exact).
 */
public class RedisResource implements QuarkusTestResourceLifecycleManager {
    private RedisServer redis;
    private final List<String> settings = new ArrayList<>();

    @Override
    public void init(Map<String, String> initArgs) {
        initArgs.forEach((name, value) -> settings.addAll(List.of("--" + name, value)));
    }

    @Override
    public Map<String, String> start() {
        redis = RedisServer.start(settings.toArray(String[]::new));
        return Map.of("quarkus.redis.hosts", redis.uri());
    }

    @Override
    public void stop() {
        if (redis != null) {
            redis.close();
        }
    }
}
