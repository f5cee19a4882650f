package dev.copresence.engine;

/**
 * The three parts a node works with, chosen once at start-up: in memory (one node) or on Redis
 * (a cluster). Nothing outside {@code engine.*} knows which one it has. {@code housekeeping} runs
 * once per renewal interval: forgetting old history in memory, reaping expired members on Redis.
 */
public record Engine(String nodeId, Registry registry, Log log, Bus bus, Runnable housekeeping) {
}
