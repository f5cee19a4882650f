package dev.copresence.engine.redis;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;

import org.junit.jupiter.api.Test;

import io.vertx.redis.client.impl.types.ErrorType;

/**
 * Which failures of a command leave its outcome unknown (Redis may have run it), as the Vert.x Redis
 * client reports them; what {@code CommandHandler} keeps or puts back follows from it.
 */
class LostAnswerTest {
    @Test
    void aConnectionThatEndedOrWasResetWhileRedisHadTheCommandLeavesItUnknown() {
        assertTrue(RedisScripts.endedWithItsConnection(ErrorType.create("CONNECTION_CLOSED")));
        assertTrue(RedisScripts.endedWithItsConnection(new IOException("Connection reset by peer")));
    }

    @Test
    void anErrorReplyOrAConnectionNeverMadeIsARefusal() {
        assertFalse(RedisScripts.endedWithItsConnection(ErrorType.create("NOPERM this user has no permissions")));
        assertFalse(RedisScripts.endedWithItsConnection(ErrorType.create("READONLY You can't write against a read only replica.")));
        assertFalse(RedisScripts.endedWithItsConnection(new ConnectException("Connection refused")));
        assertFalse(RedisScripts.endedWithItsConnection(new UnknownHostException("redis")));
    }
}
