package dev.copresence.engine;

/**
 * The three parts a node works with, chosen once at start-up: in memory (one node) or on Redis
 * (a cluster). Nothing outside {@code engine.*} knows which one it has.
 */
public record Engine(Registry registry, Log log, Bus bus) {
}
