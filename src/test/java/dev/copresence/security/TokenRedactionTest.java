package dev.copresence.security;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TokenRedactionTest {
    @Test
    void aTokenInTheQueryIsReplacedAndTheRestKept() {
        assertEquals("user=ada&access_token=REDACTED&x=1", TokenRedaction.redact("user=ada&access_token=eyJ.abc.def&x=1"));
        assertEquals("/ws?access_token=REDACTED", TokenRedaction.redact("/ws?access_token=eyJ.abc.def"));
    }
}
