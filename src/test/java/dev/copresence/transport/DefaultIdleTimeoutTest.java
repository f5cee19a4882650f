package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;

/**
 * What the node runs with unless told otherwise (QuietConnectionsTest shows what the timeout does,
 * at 4 s): Quarkus's own default, 30 minutes, held a socket that never finished a request that long.
 */
@QuarkusTest
class DefaultIdleTimeoutTest {
    @ConfigProperty(name = "quarkus.http.idle-timeout")
    Duration httpIdleTimeout;

    @Test
    void theNodeRunsWithANinetySecondIdleTimeoutUnlessToldOtherwise() {
        assertEquals(Duration.ofSeconds(90), httpIdleTimeout);
    }
}
