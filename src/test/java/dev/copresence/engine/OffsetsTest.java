package dev.copresence.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OffsetsTest {

    @Test
    void offsetsOrderByFirstPartThenSecondNumerically() {
        assertTrue(Offsets.compare("1795315542067-9", "1795315542067-17") < 0, "numbers, not strings");
        assertTrue(Offsets.compare("1795315542068-0", "1795315542067-17") > 0);
        assertEquals(0, Offsets.compare("5-3", "5-3"));
    }

    @Test
    void aPositionTellsWhichOffsetsComeAfterIt() {
        Offsets.Position joined = Offsets.Position.of("100-7");
        assertTrue(joined.before("100-8"));
        assertTrue(joined.before("101-0"));
        assertFalse(joined.before("100-7"), "the join's own offset is in the snapshot");
        assertFalse(joined.before("99-100"));
    }

    @Test
    void whatIsNotAnOffsetIsRefused() {
        assertThrows(NumberFormatException.class, () -> Offsets.compare("12-x", "12-1"));
        assertThrows(NumberFormatException.class, () -> Offsets.Position.of("-1"));
        assertThrows(NumberFormatException.class, () -> Offsets.Position.of("99999999999999999999-1"));
        assertThrows(RuntimeException.class, () -> Offsets.Position.of("17"));
    }
}
