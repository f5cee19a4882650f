package dev.copresence.protocol;

import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A member's state, held as the compact JSON text it is sent as. A member keeps its state for as
 * long as it is joined, and as a Jackson tree (the object node, its map's table and entries, a node
 * per value) the two-field state of a cursor took about 0.3 KiB of heap where its text takes under a
 * hundred bytes. The text is also what every frame carrying the member writes ({@link Encoder}), and
 * its length is what the state limit measures; only {@code update}'s merge needs the tree again.
 * Immutable, like {@link Member}.
 */
public final class State {
    public static final State EMPTY = new State("{}");

    private final String json;

    private State(String json) {
        this.json = json;
    }

    /** The state of a JSON object, as Jackson writes it (compact, its fields in order). */
    public static State of(ObjectNode tree) {
        if (tree == null || tree.isEmpty()) {
            return EMPTY;
        }
        return new State(Codec.write(g -> g.writeTree(tree)));
    }

    /** A fresh tree of the state, the caller's to change. */
    public ObjectNode tree() {
        JsonNode tree = Codec.readTreeOrNull(json);
        if (!(tree instanceof ObjectNode object)) {
            throw new IllegalStateException("a state that is not a JSON object");
        }
        return object;
    }

    /** The compact JSON text: a JSON object. */
    public String json() {
        return json;
    }

    /** Its size in UTF-8 bytes: the measure of the state limit (asked on a join and an update only). */
    public int utf8Length() {
        for (int i = 0; i < json.length(); i++) {
            if (json.charAt(i) >= 0x80) {
                return json.getBytes(StandardCharsets.UTF_8).length;
            }
        }
        return json.length();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof State s && s.json.equals(json);
    }

    @Override
    public int hashCode() {
        return json.hashCode();
    }

    @Override
    public String toString() {
        return json;
    }
}
