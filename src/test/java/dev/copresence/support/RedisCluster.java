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
            cluster.nodes.add(clusterNode());
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

    private static RedisServer clusterNode() {
        return RedisServer.start("--cluster-enabled", "yes", "--cluster-node-timeout", "5000",
                "--cluster-config-file", "nodes-" + System.nanoTime() + ".conf");
    }

    /** Adds a master with no slots, as scaling a cluster out does; every node knows every other when this returns. */
    public RedisServer addMaster() {
        RedisServer added = clusterNode();
        String meet = nodes.get(0).cli("CLUSTER", "MEET", "127.0.0.1", Integer.toString(added.port()));
        if (!"OK".equals(meet)) {
            added.close();
            throw new IllegalStateException("CLUSTER MEET: " + meet);
        }
        nodes.add(added);
        // gossip reaches the new master from the node that met it, and the others' of it later: it must
        // know them too before a slot moves to it (SETSLOT IMPORTING names the source)
        List<String> ids = nodes.stream().map(n -> n.cli("CLUSTER", "MYID")).toList();
        Awaitility.await("every node knows every other").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> nodes.stream().allMatch(n -> {
                    List<String> known = n.cli("CLUSTER", "NODES").lines().toList();
                    return ids.stream().allMatch(id -> known.stream()
                            .anyMatch(line -> line.startsWith(id + " ") && line.contains("master") && line.contains("connected")));
                }));
        return added;
    }

    /** The master that serves {@code slot} (by every node's own table: the one that says "myself" for it). */
    public RedisServer ownerOf(int slot) {
        return nodes.stream().filter(n -> n.cli("CLUSTER", "NODES").lines()
                .filter(line -> line.contains("myself"))
                .flatMap(line -> java.util.Arrays.stream(line.split(" ")).skip(8))
                .filter(range -> !range.startsWith("["))
                .anyMatch(range -> {
                    String[] ends = range.split("-");
                    int from = Integer.parseInt(ends[0]);
                    int to = Integer.parseInt(ends[ends.length - 1]);
                    return from <= slot && slot <= to;
                })).findFirst().orElseThrow(() -> new IllegalStateException("no master serves slot " + slot));
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
