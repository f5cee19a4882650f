package dev.copresence.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** A member's state kept as its JSON text: what a client sent is what other clients are sent. */
class StateTest {

    private static ObjectNode object(String json) {
        return (ObjectNode) Codec.readTreeOrNull(json);
    }

    @Test
    void aStateIsSentAsTheClientSentIt() {
        State state = State.of(object("{ \"cursor\" : {\"x\":1,\"y\":2.5}, \"sel\":[3,9], \"name\":null }"));
        assertEquals("{\"cursor\":{\"x\":1,\"y\":2.5},\"sel\":[3,9],\"name\":null}", state.json());
        assertEquals(object(state.json()), state.tree());
    }

    @Test
    void anEmptyOrMissingStateIsTheEmptyObject() {
        assertSame(State.EMPTY, State.of(null));
        assertSame(State.EMPTY, State.of(object("{}")));
        assertEquals("{}", State.EMPTY.json());
    }

    @Test
    void theLimitMeasuresUtf8BytesNotCharacters() {
        State ascii = State.of(object("{\"a\":\"xyz\"}"));
        assertEquals(11, ascii.utf8Length());
        State wide = State.of(object("{\"a\":\"日本🙂\"}"));
        assertEquals(wide.json().getBytes(StandardCharsets.UTF_8).length, wide.utf8Length());
        assertEquals(8 + 3 + 3 + 4, wide.utf8Length());
    }

    @Test
    void changingATreeDoesNotChangeTheState() {
        State state = State.of(object("{\"a\":1}"));
        ObjectNode tree = state.tree();
        tree.put("a", 2);
        assertNotSame(tree, state.tree());
        assertEquals("{\"a\":1}", state.json());
    }

    @Test
    void statesWithTheSameJsonAreEqual() {
        assertEquals(State.of(object("{\"a\":[1,2]}")), State.of(object("{ \"a\" : [1, 2] }")));
        assertEquals(State.of(object("{\"a\":[1,2]}")).hashCode(), State.of(object("{ \"a\" : [1, 2] }")).hashCode());
    }
}
