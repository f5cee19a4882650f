package dev.copresence.engine;

/**
 * Marks an engine failure after which the change may still have been made: Redis had the command
 * but its answer never came (it did not answer in time, or its connection ended first). A caller
 * that would undo its own record of a refused change keeps it after such a failure, so that the
 * record says what the others may have seen.
 */
public interface OutcomeUnknown {
}
