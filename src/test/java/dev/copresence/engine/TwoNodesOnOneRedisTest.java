package dev.copresence.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.redis.client.Command;
import io.vertx.mutiny.redis.client.Redis;
import io.vertx.mutiny.redis.client.Request;

import dev.copresence.config.CopresenceConfig;
import dev.copresence.engine.redis.RedisEngineFactory;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.Member;
import dev.copresence.protocol.ServerMessage;
import dev.copresence.protocol.State;
import dev.copresence.protocol.UserRef;
import dev.copresence.support.RedisResource;
import dev.copresence.support.WsClient;

/**
 * Two registry/bus instances with different node ids on one Redis: the service's own node, reached
 * by a WebSocket client, and a second engine built in the test. What a member does on one node is
 * seen on the other.
 */
@QuarkusTest
@QuarkusTestResource(value = RedisResource.class, restrictToAnnotatedClass = true)
class TwoNodesOnOneRedisTest {
    @TestHTTPResource("/")
    URI base;
    // Looked up lazily, as the service does: a plain injection point would make every @QuarkusTest
    // of this build start the Redis client, including the in-memory ones.
    @Inject
    Instance<ReactiveRedisDataSource> dataSource;
    @Inject
    Instance<Redis> redis;
    @Inject
    Vertx vertx;
    @Inject
    CopresenceConfig config;

    private static final Duration WAIT = Duration.ofSeconds(10);

    private final class Recorder implements EngineListener {
        final List<DocEvent> events = new CopyOnWriteArrayList<>();
        final List<UserStatus> statuses = new CopyOnWriteArrayList<>();

        @Override
        public void onDocEvent(String doc, DocEvent event) {
            events.add(event);
        }

        @Override
        public void onStatus(UserStatus status) {
            statuses.add(status);
        }
    }

    @Test
    void whatAMemberDoesOnOneNodeIsSeenOnTheOther() {
        Engine other = RedisEngineFactory.create("n-other", config, false, dataSource.get(), redis.get(),
                vertx.getDelegate().getOrCreateContext(), Clock.systemUTC(), new SimpleMeterRegistry());
        Recorder recorder = new Recorder();
        other.bus().listen(recorder);
        String doc = "two-nodes-" + System.nanoTime();
        try (WsClient ada = WsClient.connect(WsClient.ws(base, "/ws?user=ada&name=Ada"));
                WsClient watcher = WsClient.connect(WsClient.ws(base, "/ws"))) {
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
            String adaId = ada.next("joined").get("self").asText();

            // node B subscribes and joins bob: ada sees him, and B's snapshot holds ada
            other.bus().subscribe(doc).await().atMost(WAIT);
            Member bob = new Member("m-bob", new UserRef("bob", "Bob"), State.EMPTY, false,
                    System.currentTimeMillis());
            Snapshot snapshot = other.registry().join(doc, bob, 10).await().atMost(WAIT);
            assertEquals(2, snapshot.members().size());
            assertTrue(snapshot.members().stream().anyMatch(m -> m.id().equals(adaId) && m.user().id().equals("ada")));
            JsonNode join = ada.next("presence");
            assertEquals("m-bob", join.at("/member/id").asText());
            assertEquals(snapshot.offset(), join.get("offset").asText());

            // ada's broadcast reaches node B with its offset
            ada.send("{\"type\":\"broadcast\",\"doc\":\"" + doc + "\",\"data\":\"hello B\"}");
            Awaitility.await().atMost(WAIT).until(() -> recorder.events.stream()
                    .anyMatch(e -> e.kind().durable() && e.frame().contains("hello B") && e.offset() != null));

            // node B signals ada, wherever she is connected
            String signal = Codec.encode(new ServerMessage.Signal(doc, "m-bob", Codec.mapper().getNodeFactory().textNode("offer")));
            assertTrue(other.bus().signal(doc, adaId, signal).await().atMost(WAIT));
            assertEquals("m-bob", ada.next("signal").get("from").asText());

            // status crosses nodes both ways
            watcher.send("{\"type\":\"watch\",\"users\":[\"bob\"]}");
            watcher.next("status");
            other.registry().connected("bob").await().atMost(WAIT);
            assertTrue(watcher.next("status").get("online").asBoolean());
            assertTrue(other.registry().status(List.of("ada")).await().atMost(WAIT).get(0).online());

            // B's leave reaches ada
            assertEquals(true, other.registry().leave(doc, "m-bob",
                    Codec.durablePrefix(new ServerMessage.Presence(doc, "leave", bob, "left", null)))
                    .await().atMost(WAIT) != null);
            JsonNode leave = ada.next("presence");
            assertEquals("leave", leave.get("event").asText());
            assertEquals("m-bob", leave.at("/member/id").asText());
            other.registry().disconnected("bob").await().atMost(WAIT);
            assertTrue(!watcher.next("status").get("online").asBoolean());
        } finally {
            other.bus().unsubscribe(doc);
            other.bus().close();
        }
    }

    /**
     * A string cut in the middle of an emoji (JSON carries its lone surrogate escaped) reaches the
     * others through Redis as it was sent, in data and in state, not with '?' in its place.
     */
    @Test
    void aLoneSurrogateCrossesRedisAsItWasSent() {
        String doc = "surrogate-" + System.nanoTime();
        try (WsClient ada = WsClient.connect(WsClient.ws(base, "/ws?user=ada")); WsClient bob = WsClient.connect(WsClient.ws(base, "/ws?user=bob"))) {
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            ada.next("presence");
            ada.send("{\"type\":\"broadcast\",\"doc\":\"" + doc + "\",\"data\":\"ab\\ud83d\"}");
            assertEquals("ab\uD83D", bob.next("broadcast").get("data").textValue());
            ada.send("{\"type\":\"update\",\"doc\":\"" + doc + "\",\"state\":{\"t\":\"\\ude00x\"}}");
            assertEquals("\uDE00x", bob.next("presence").at("/member/state/t").textValue());
        }
    }

    @Test
    void lastSeenMovesForwardOnRedisEvenWhenANodesClockDoesNot() {
        Engine stopped = RedisEngineFactory.create("n-stopped-clock", config, false, dataSource.get(), redis.get(),
                vertx.getDelegate().getOrCreateContext(), Clock.fixed(Instant.ofEpochMilli(1_000), ZoneOffset.UTC),
                new SimpleMeterRegistry());
        Recorder recorder = new Recorder();
        stopped.bus().listen(recorder);
        String user = "stopped-clock-" + System.nanoTime();
        try {
            // subscribing waits for the bus's connection, which listens for status changes first
            stopped.bus().subscribe(user).await().atMost(WAIT);
            for (int i = 0; i < 3; i++) {
                stopped.registry().connected(user).await().atMost(WAIT);
                stopped.registry().disconnected(user).await().atMost(WAIT);
            }

            List<UserStatus> expected = List.of(new UserStatus(user, true, null), new UserStatus(user, false, 1_000L),
                    new UserStatus(user, true, 1_000L), new UserStatus(user, false, 1_001L),
                    new UserStatus(user, true, 1_001L), new UserStatus(user, false, 1_002L));
            Awaitility.await().atMost(WAIT).until(() -> recorder.statuses.stream().filter(s -> s.user().equals(user)).count() == 6);
            assertEquals(expected, recorder.statuses.stream().filter(s -> s.user().equals(user)).toList());
            assertEquals(List.of(new UserStatus(user, false, 1_002L)), stopped.registry().status(List.of(user)).await().atMost(WAIT));
        } finally {
            stopped.bus().unsubscribe(user);
            stopped.bus().close();
        }
    }

    /**
     * A node whose clock runs minutes behind another's: the other judges its members' expiries, and
     * its own lease's, by Redis's clock, not by its own, and reaps neither while they are renewed.
     */
    @Test
    void aNodeWhoseClockRunsBehindKeepsItsMembersBesideOneWhoseClockRunsAhead() {
        Engine behind = node("n-behind", Duration.ofMinutes(-5));
        Engine ahead = node("n-ahead", Duration.ofMinutes(5));
        String doc = "skew-" + System.nanoTime();
        Member member = new Member("m-behind-" + System.nanoTime(), new UserRef("slow", null), State.EMPTY, false,
                System.currentTimeMillis());
        try {
            behind.registry().heartbeat(java.util.Set.of(doc)).await().atMost(WAIT);
            behind.registry().join(doc, member, 10).await().atMost(WAIT);
            behind.registry().renew(doc, List.of(member.id())).await().atMost(WAIT);

            ahead.registry().heartbeat(java.util.Set.of()).await().atMost(WAIT); // reaps the nodes it finds dead
            ahead.registry().renew(doc, List.of()).await().atMost(WAIT); // reaps the document's expired members

            assertEquals(List.of(member.id()),
                    ahead.registry().snapshot(doc).await().atMost(WAIT).members().stream().map(Member::id).toList());
        } finally {
            behind.registry().goodbye().await().atMost(WAIT);
            ahead.registry().goodbye().await().atMost(WAIT);
            behind.bus().close();
            ahead.bus().close();
        }
    }

    /**
     * A node hands an old name back to the reapers (score 0 in {@code cp:nodes}) while one is still
     * reaping it, having written a member under it after the reaper's last read of its documents. The
     * name stays to be reaped again, and that member leaves; a reaper whose last step took the name
     * off {@code cp:nodes} left it there for good. The old name's many users make the reaping last
     * long enough to be caught in its middle.
     */
    @Test
    void aMemberWrittenUnderANameHandedBackWhileItWasBeingReapedIsReapedToo() {
        Engine reaper = node("n-reaper", Duration.ZERO);
        Redis client = redis.get();
        String dead = "n-gone." + Long.toHexString(System.nanoTime());
        String users = "cp:node:{" + dead + "}:users";
        String doc = "handed-back-" + System.nanoTime();
        Member late = new Member("m-late-" + System.nanoTime(), new UserRef("late", null), State.EMPTY, false,
                System.currentTimeMillis());
        int userCount = 20_000;
        try {
            for (int i = 0; i < userCount; i += 1_000) {
                Request add = Request.cmd(Command.SADD).arg(users);
                for (int j = i; j < i + 1_000; j++) {
                    add.arg("gone-user-" + j);
                }
                client.send(add).await().atMost(WAIT);
            }
            client.send(Request.cmd(Command.ZADD).arg("cp:nodes").arg(1).arg(dead)).await().atMost(WAIT); // long past
            reaper.registry().heartbeat(java.util.Set.of()).subscribe().with(done -> { }, failed -> { });
            Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(1))
                    .until(() -> client.send(Request.cmd(Command.SCARD).arg(users)).await().atMost(WAIT).toInteger() < userCount);

            // the node, meanwhile: a member under the old name, then the hand-back
            client.send(Request.cmd(Command.HSET).arg("cp:{" + doc + "}:members").arg(late.id())
                    .arg(Codec.encodeStoredMember(late, dead))).await().atMost(WAIT);
            client.send(Request.cmd(Command.ZADD).arg("cp:{" + doc + "}:expiry").arg(Long.MAX_VALUE / 2).arg(late.id()))
                    .await().atMost(WAIT);
            client.send(Request.cmd(Command.ZADD).arg("cp:node:{" + dead + "}:docs").arg(System.currentTimeMillis()).arg(doc))
                    .await().atMost(WAIT);
            client.send(Request.cmd(Command.ZADD).arg("cp:nodes").arg(0).arg(dead)).await().atMost(WAIT);
            assertTrue(client.send(Request.cmd(Command.SCARD).arg(users)).await().atMost(WAIT).toInteger() > 0,
                    "the hand-back came after the reaping ended: this test caught nothing");

            Awaitility.await().atMost(WAIT).untilAsserted(() -> {
                reaper.registry().heartbeat(java.util.Set.of()).await().atMost(WAIT);
                assertEquals(List.of(), reaper.registry().snapshot(doc).await().atMost(WAIT).members());
            });
        } finally {
            reaper.registry().goodbye().await().atMost(WAIT);
            reaper.bus().close();
            client.send(Request.cmd(Command.DEL).arg(users).arg("cp:node:{" + dead + "}:docs").arg("cp:{" + doc + "}:members")
                    .arg("cp:{" + doc + "}:expiry")).await().atMost(WAIT);
            client.send(Request.cmd(Command.ZREM).arg("cp:nodes").arg(dead)).await().atMost(WAIT);
        }
    }

    private Engine node(String id, Duration clockOffset) {
        return RedisEngineFactory.create(id, config, false, dataSource.get(), redis.get(), vertx.getDelegate().getOrCreateContext(),
                Clock.offset(Clock.systemUTC(), clockOffset), new SimpleMeterRegistry());
    }

    @Test
    void aDeadNodesLastConnectionOfAUserMovesLastSeenForwardToo() throws Exception {
        String script;
        try (var in = getClass().getClassLoader().getResourceAsStream("redis/node-gone.lua")) {
            script = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        String user = "dead-node-" + System.nanoTime();
        String hash = "cp:user:{" + user + "}";
        String seen = hash + ":seen";
        Redis client = redis.get();
        client.send(Request.cmd(Command.HSET).arg(hash).arg("n-dead").arg(1)).await().atMost(WAIT);
        // the user went offline at 5,000 once; the reaper's clock says 1,000
        client.send(Request.cmd(Command.SET).arg(seen).arg(5_000)).await().atMost(WAIT);

        client.send(Request.cmd(Command.EVAL).arg(script).arg(2).arg(hash).arg(seen)
                .arg("n-dead").arg("cp:status").arg(user).arg(1_000).arg(60_000)).await().atMost(WAIT);

        assertEquals(0, client.send(Request.cmd(Command.HLEN).arg(hash)).await().atMost(WAIT).toInteger());
        assertEquals("5001", client.send(Request.cmd(Command.GET).arg(seen)).await().atMost(WAIT).toString());
    }
}
