package dev.copresence.engine.redis;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The name this node goes by in Redis: its node id and a random suffix, new at each start and each
 * time the node finds its lease gone. Its lease, its sets, its fields in the users' hashes and the
 * {@code node} of its member records all carry that name, and a reaper removes only what carries the
 * name it reaps. So a node reaped while it was alive (frozen past its lease), or a node restarted
 * under the same configured id, keeps what it writes under its new name, and what its old name left
 * behind is reaped whole.
 */
final class Incarnation {
    /** Safe inside key hash tags, Lua patterns' plain finds and JSON strings without escaping. */
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final String node;
    private volatile String current;
    private boolean held; // guarded by this: the current name's lease has been set once
    private final List<String> retired = new ArrayList<>(); // guarded by this: given up at this heartbeat
    private final List<String> due = new ArrayList<>(); // guarded by this: given up before it, to hand back

    Incarnation(String node) {
        if (!NODE_ID.matcher(node).matches()) {
            throw new IllegalArgumentException("copresence.node-id must be 1 to 64 letters, digits, '.', '_' or '-': " + node);
        }
        this.node = node;
        this.current = fresh();
    }

    /** The node id (configured or generated), which every name of this node starts with. */
    String node() {
        return node;
    }

    /** The name to write under now. */
    String current() {
        return current;
    }

    /** Whether {@code name}'s lease has been set: asked before setting it again. */
    synchronized boolean held(String name) {
        return held && name.equals(current);
    }

    /**
     * Told whether {@code name}'s lease was still in Redis when it was set again, and whether it had
     * been set before that ({@link #held}, asked before: two heartbeats may overlap at start-up, and
     * their answers come back in any order). A lease missing after it had been set means the name was
     * reaped, or Redis lost it: the node takes a new name, which is returned. Otherwise {@code null}.
     */
    synchronized String afterLease(String name, boolean heldBefore, boolean wasThere) {
        if (!name.equals(current)) {
            return null;
        }
        if (wasThere || !heldBefore) {
            held = true;
            return null;
        }
        retired.add(name);
        current = fresh();
        held = false;
        return current;
    }

    /** The new name's lease is set: from now on its absence means a loss. */
    synchronized void holding(String name) {
        if (name.equals(current)) {
            held = true;
        }
    }

    /**
     * Called as a heartbeat starts: the names to hand to the reapers now, given up at an earlier
     * heartbeat (so the resync has had a renew interval to write everything again under the new
     * name), and not yet handed back ({@link #handedBack}: a heartbeat that fails keeps them for the
     * next).
     */
    synchronized List<String> dueForReaping() {
        due.addAll(retired);
        retired.clear();
        return List.copyOf(due);
    }

    /** {@code name} is marked dead in Redis: from now on any node may reap it, this one too. */
    synchronized void handedBack(String name) {
        due.remove(name);
    }

    /** Every name this node has given up and not handed back yet, for a clean goodbye. */
    synchronized List<String> givenUp() {
        List<String> names = new ArrayList<>(due);
        names.addAll(retired);
        return names;
    }

    /** A name given up and not handed back yet: this node does not reap it. */
    synchronized boolean retiring(String name) {
        return retired.contains(name) || due.contains(name);
    }

    private String fresh() {
        return node + "." + UUID.randomUUID().toString().substring(0, 8);
    }
}
