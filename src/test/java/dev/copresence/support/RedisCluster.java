package dev.copresence.support;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;

/** A Redis Cluster of three masters, each a redis-server process of this machine, made by redis-cli. */
public final class RedisCluster implements AutoCloseable {
    private final List<RedisServer> nodes = new ArrayList<>();

    private RedisCluster() {
    }

    public static RedisCluster start() {
        RedisCluster cluster = new RedisCluster();
        for (int i = 0; i < 3; i++) {
            cluster.nodes.add(RedisServer.start("--cluster-enabled", "yes", "--cluster-node-timeout", "5000",
                    "--cluster-config-file", "nodes-" + System.nanoTime() + ".conf"));
        }
        List<String> command = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
        cluster.nodes.forEach(n -> command.add("127.0.0.1:" + n.port()));
        command.add("--cluster-yes");
        try {
            Process create = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(create.getInputStream().readAllBytes());
            if (!create.waitFor(60, TimeUnit.SECONDS) || create.exitValue() != 0) {
                throw new IllegalStateException("redis-cli --cluster create failed: " + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        Awaitility.await("cluster state ok").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> cluster.nodes.stream().allMatch(n -> n.cli("cluster", "info").contains("cluster_state:ok")));
        return cluster;
    }

    /** {@code quarkus.redis.hosts} for the cluster client: every master. */
    public String hosts() {
        return String.join(",", nodes.stream().map(RedisServer::uri).toList());
    }

    public List<RedisServer> nodes() {
        return nodes;
    }

    @Override
    public void close() {
        nodes.forEach(RedisServer::close);
    }
}
