package dev.copresence.engine.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import dev.copresence.support.RedisServer;

/**
 * leave.lua on a real Redis, case by case. A leave is announced once; one its node could not record
 * and tries again is announced exactly once too, whether Redis still holds the member, reaped it,
 * took the first try after all, or lost it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LeaveScriptTest {
    private static final String PREFIX = "{\"type\":\"presence\",\"doc\":\"d\",\"event\":\"leave\",\"member\":{\"id\":\"m-1\"},\"reason\":\"closed\",\"offset\":\"";

    private RedisServer redis;
    private String script;
    private int run;

    @BeforeAll
    void start() throws IOException {
        redis = RedisServer.start();
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("redis/leave.lua")) {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @AfterAll
    void stop() {
        redis.close();
    }

    /** This test's own document, so that the cases share nothing. */
    private String doc() {
        return "again-" + run++ + "-" + System.nanoTime();
    }

    private String leaveAgain(String doc) {
        return leave(doc, "1");
    }

    private String leave(String doc, String again) {
        List<String> args = new ArrayList<>(List.of("EVAL", script, "4", RedisKeys.members(doc), RedisKeys.expiry(doc),
                RedisKeys.log(doc), RedisKeys.reaped(doc), "PUBLISH", RedisKeys.events(doc), "m-1", "1000", "3600000", PREFIX,
                again));
        return redis.cli(args.toArray(String[]::new));
    }

    @Test
    void aFirstLeaveOfAMemberAlreadyGoneAnnouncesNothing() {
        String doc = doc();
        assertEquals("", leave(doc, "0"));
        assertEquals(0, logLength(doc));
        redis.cli("HSET", RedisKeys.members(doc), "m-1", "{}");
        assertTrue(leave(doc, "0").contains("-"), "an offset");
        assertEquals("", leave(doc, "0"), "once");
        assertEquals(1, logLength(doc));
    }

    private long logLength(String doc) {
        return Long.parseLong(redis.cli("XLEN", RedisKeys.log(doc)));
    }

    @Test
    void aMemberRedisStillHoldsIsRemovedAndItsLeaveLogged() {
        String doc = doc();
        redis.cli("HSET", RedisKeys.members(doc), "m-1", "{}");
        redis.cli("ZADD", RedisKeys.expiry(doc), "1", "m-1");
        assertTrue(leaveAgain(doc).contains("-"), "an offset");
        assertEquals("0", redis.cli("HEXISTS", RedisKeys.members(doc), "m-1"));
        assertEquals("0", redis.cli("ZCARD", RedisKeys.expiry(doc)));
        assertEquals(1, logLength(doc));
    }

    @Test
    void aMemberAnotherNodeReapedIsNotAnnouncedAgain() {
        String doc = doc();
        redis.cli("ZADD", RedisKeys.reaped(doc), "1", "m-1");
        assertEquals("", leaveAgain(doc));
        assertEquals(0, logLength(doc));
    }

    @Test
    void aLeaveTheFirstTryRecordedIsNotAnnouncedAgain() {
        String doc = doc();
        redis.cli("XADD", RedisKeys.log(doc), "*", "p", PREFIX, "k", "d", "o", "m-1");
        redis.cli("XADD", RedisKeys.log(doc), "*", "p", "{\"type\":\"broadcast\"", "k", "d", "o", "m-2");
        assertEquals("", leaveAgain(doc));
        assertEquals(2, logLength(doc));
    }

    /** The reaped mark is kept for a while only; the reaper's leave in the log says the same for longer. */
    @Test
    void aMemberAnotherNodeReapedLongAgoIsNotAnnouncedAgain() {
        String doc = doc();
        redis.cli("XADD", RedisKeys.log(doc), "*", "p", PREFIX.replace("\"closed\"", "\"timeout\"").replace("\"member\":{\"id\":\"m-1\"}",
                "\"member\":{\"id\":\"m-1\",\"user\":{\"id\":\"carol\"},\"state\":{}}"), "k", "d", "o", "m-1");
        assertEquals("", leaveAgain(doc));
        assertEquals(1, logLength(doc));
    }

    @Test
    void aMemberRedisLostIsAnnouncedAllTheSame() {
        String doc = doc();
        // what Redis holds of it: its join only (the log made anew after a restart would hold nothing)
        redis.cli("XADD", RedisKeys.log(doc), "*", "p", "{\"type\":\"presence\",\"event\":\"join\"", "k", "d", "o", "m-1");
        assertTrue(leaveAgain(doc).contains("-"), "an offset");
        assertEquals(2, logLength(doc));
        String empty = doc();
        assertTrue(leaveAgain(empty).contains("-"), "an offset in an empty log too");
        assertEquals(1, logLength(empty));
    }
}
