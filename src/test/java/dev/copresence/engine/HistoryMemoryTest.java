package dev.copresence.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.copresence.engine.memory.MemoryEngine;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ServerMessage;

/**
 * The in-memory histories together stay within their memory, however many documents a client
 * writes into: the oldest events of any document go first, and a resume from before them is
 * refused as from a trimmed history.
 */
class HistoryMemoryTest {
    private static final int MEMORY = 100_000;

    @Test
    void broadcastsIntoManyDocumentsKeepTheNewestEventsWithinTheMemory() {
        Engine engine = new MemoryEngine(1000, Duration.ofHours(1), MEMORY, Clock.systemUTC()).asEngine();
        String data = "\"" + "x".repeat(1000) + "\"";
        List<String> docs = new ArrayList<>();
        List<List<String>> offsets = new ArrayList<>(); // each document's: where it stood, then each event's
        for (int d = 0; d < 20; d++) {
            docs.add("doc-" + d);
            offsets.add(new ArrayList<>(List.of(engine.registry().snapshot("doc-" + d).await().indefinitely().offset())));
        }
        for (int round = 0; round < 20; round++) { // 400 events of about 1 KiB: four times the memory
            for (int d = 0; d < docs.size(); d++) {
                String prefix = Codec.durablePrefix(new ServerMessage.Broadcast(docs.get(d), null, Codec.readTreeOrNull(data), null));
                offsets.get(d).add(engine.log().broadcast(docs.get(d), null, true, prefix).await().indefinitely());
            }
        }

        long kept = 0;
        for (int d = 0; d < docs.size(); d++) {
            List<String> doc = offsets.get(d);
            assertFalse(engine.log().readAfter(docs.get(d), doc.get(0), null).await().indefinitely().resumed(),
                    "the oldest events went");
            // the events kept are those after the oldest offset a resume is still taken from
            for (String since : doc) {
                Replay replay = engine.log().readAfter(docs.get(d), since, null).await().indefinitely();
                if (replay.resumed()) {
                    kept += replay.frames().stream().mapToLong(String::length).sum();
                    break;
                }
            }
            Replay newest = engine.log().readAfter(docs.get(d), doc.get(doc.size() - 2), null).await().indefinitely();
            assertTrue(newest.resumed(), "the newest events stay");
            assertEquals(1, newest.frames().size());
        }
        assertTrue(kept <= MEMORY, kept + " characters kept");
        assertTrue(kept >= MEMORY / 2, "only what the memory needs went: " + kept + " kept");
    }
}
