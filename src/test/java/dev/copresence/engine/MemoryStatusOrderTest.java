package dev.copresence.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import dev.copresence.engine.memory.MemoryEngine;

/** A user's status changes on one node can be ordered by their status alone, even when the clock stands still. */
class MemoryStatusOrderTest {

    @Test
    void eachOfflineIsStampedLaterThanTheOneBeforeAndEachChangeIsNewerThanTheLast() {
        Engine engine = new MemoryEngine(10, Duration.ofMinutes(1), Clock.fixed(Instant.ofEpochMilli(1_000), ZoneOffset.UTC))
                .asEngine();
        List<UserStatus> changes = new CopyOnWriteArrayList<>();
        engine.bus().listen(new EngineListener() {
            @Override
            public void onDocEvent(String doc, DocEvent event) {
            }

            @Override
            public void onStatus(UserStatus status) {
                changes.add(status);
            }
        });
        for (int i = 0; i < 3; i++) {
            engine.registry().connected("ada").await().indefinitely();
            engine.registry().disconnected("ada").await().indefinitely();
        }

        assertEquals(List.of(new UserStatus("ada", true, null), new UserStatus("ada", false, 1_000L),
                new UserStatus("ada", true, 1_000L), new UserStatus("ada", false, 1_001L),
                new UserStatus("ada", true, 1_001L), new UserStatus("ada", false, 1_002L)), changes);
        for (int i = 1; i < changes.size(); i++) {
            assertTrue(changes.get(i).isNewerThan(changes.get(i - 1)), changes.get(i) + " after " + changes.get(i - 1));
            assertTrue(!changes.get(i - 1).isNewerThan(changes.get(i)));
        }
        assertEquals(List.of(new UserStatus("ada", false, 1_002L)), engine.registry().status(List.of("ada")).await().indefinitely());
    }
}
