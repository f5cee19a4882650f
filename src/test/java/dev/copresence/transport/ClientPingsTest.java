package dev.copresence.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.copresence.flow.RateLimiter;

class ClientPingsTest {
    @Test
    void aSlowReadersOccasionalPingBehindAFullSocketDoesNotStopItBeingRead() {
        ClientPings pings = new ClientPings(new RateLimiter.Limit(100, 200));
        for (int i = 0; i < 100; i++) {
            assertFalse(pings.pileUp(false), "one ping behind a full socket");
            assertFalse(pings.pileUp(true), "a ping that finds the socket writable starts the count again");
        }
    }

    @Test
    void pingsThatKeepArrivingBehindAFullSocketStopItBeingReadEveryEighth() {
        ClientPings pings = new ClientPings(new RateLimiter.Limit(100, 200));
        int holds = 0;
        for (int i = 1; i <= 3 * ClientPings.PILE_UP; i++) {
            if (pings.pileUp(false)) {
                holds++;
                assertTrue(i % ClientPings.PILE_UP == 0, "held at ping " + i);
            }
        }
        assertEquals(3, holds);
    }

    @Test
    void pingsHaveABucketOfTheirOwnAndAFloodIsTold() {
        ClientPings pings = new ClientPings(new RateLimiter.Limit(100, 200));
        for (int i = 0; i < 200; i++) {
            assertTrue(pings.withinRate(), "the burst");
        }
        boolean refused = false;
        for (int i = 0; i < 202 && !pings.flooding(); i++) {
            refused |= !pings.withinRate();
        }
        assertTrue(refused);
        assertTrue(pings.flooding(), "more refusals within ten seconds than the burst");
    }
}
