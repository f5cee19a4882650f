package dev.copresence.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.copresence.support.PrometheusText;
import dev.copresence.support.RedisServer;
import dev.copresence.support.ServiceNode;
import dev.copresence.support.SseClient;
import dev.copresence.support.WsClient;

/**
 * Three packaged nodes on one Redis, as separate OS processes: they act as one service, and a node
 * that dies or drains is announced as gone, once, everywhere.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration TTL = Duration.ofSeconds(3);
    static final Duration RENEW = Duration.ofSeconds(1);

    RedisServer redis;
    List<ServiceNode> nodes = new ArrayList<>();

    @BeforeAll
    void startCluster() {
        redis = RedisServer.start();
        for (int i = 0; i < 3; i++) {
            nodes.add(ServiceNode.start(env("n" + i, TTL)));
        }
    }

    Map<String, String> env(String nodeId, Duration ttl) {
        return Map.of("QUARKUS_REDIS_HOSTS", redis.uri(), "COPRESENCE_NODE_ID", nodeId,
                "COPRESENCE_PRESENCE_TTL", ttl.toMillis() + "ms", "COPRESENCE_PRESENCE_RENEW_INTERVAL", RENEW.toMillis() + "ms");
    }

    @AfterAll
    void stopCluster() {
        nodes.forEach(ServiceNode::close);
        redis.close();
    }

    static String doc(String name) {
        return name + "-" + Long.toString(System.nanoTime(), 36);
    }

    static JsonNode join(WsClient client, String doc) {
        client.send("{\"type\":\"join\",\"id\":\"j\",\"doc\":\"" + doc + "\"}");
        return client.next("joined");
    }

    Set<String> memberIds(ServiceNode node, String doc) {
        try {
            JsonNode members = JSON.readTree(node.get("/api/documents/" + doc + "/members")).get("members");
            Set<String> ids = new HashSet<>();
            members.forEach(m -> ids.add(m.get("id").asText()));
            return ids;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void membersSpreadOverNodesSeeOneMemberListAndEachOther() {
        String doc = doc("spread");
        try (WsClient ada = nodes.get(0).connect("/ws?user=ada");
                WsClient bob = nodes.get(1).connect("/ws?user=bob");
                WsClient cy = nodes.get(2).connect("/ws?user=cy")) {
            String adaId = join(ada, doc).get("self").asText();
            String bobId = join(bob, doc).get("self").asText();
            JsonNode cyJoined = join(cy, doc);
            assertEquals(3, cyJoined.get("members").size());
            assertEquals(bobId, ada.next("presence").at("/member/id").asText());
            String cyId = ada.next("presence").at("/member/id").asText();
            assertEquals(cyId, bob.next("presence").at("/member/id").asText());
            for (ServiceNode node : nodes) {
                assertEquals(Set.of(adaId, bobId, cyId), memberIds(node, doc));
            }

            ada.send("{\"type\":\"broadcast\",\"doc\":\"" + doc + "\",\"data\":\"from A\"}");
            assertEquals("from A", bob.next("broadcast").get("data").asText());
            assertEquals("from A", cy.next("broadcast").get("data").asText());

            cy.send("{\"type\":\"update\",\"doc\":\"" + doc + "\",\"state\":{\"cursor\":7}}");
            assertEquals(7, ada.next("presence").at("/member/state/cursor").asInt());

            bob.send("{\"type\":\"signal\",\"id\":1,\"doc\":\"" + doc + "\",\"to\":\"" + cyId + "\",\"data\":\"ice\"}");
            bob.untilType("ack");
            assertEquals(bobId, cy.next("signal").get("from").asText());

            ada.send("{\"type\":\"watch\",\"users\":[\"dora\"]}");
            ada.untilType("status");
            try (WsClient dora = nodes.get(2).connect("/ws?user=dora")) {
                assertTrue(ada.next("status").get("online").asBoolean());
            }
            assertTrue(!ada.next("status").get("online").asBoolean());
        }
    }

    @Test
    void concurrentJoinsAndLeavesOnThreeNodesEndWithExactlyTheRightMembers() throws Exception {
        String doc = doc("churn");
        int perNode = 50;
        ExecutorService pool = Executors.newFixedThreadPool(12);
        try {
            List<Future<WsClient>> opened = new ArrayList<>();
            for (int n = 0; n < 3; n++) {
                ServiceNode node = nodes.get(n);
                for (int i = 0; i < perNode; i++) {
                    opened.add(pool.submit(() -> {
                        WsClient client = node.connect("/ws");
                        join(client, doc);
                        return client;
                    }));
                }
            }
            List<WsClient> clients = new ArrayList<>();
            for (Future<WsClient> f : opened) {
                clients.add(f.get());
            }
            List<Future<?>> leaving = new ArrayList<>();
            for (int i = 0; i < clients.size(); i += 2) {
                WsClient client = clients.get(i);
                leaving.add(pool.submit(client::closeGracefully));
            }
            for (Future<?> f : leaving) {
                f.get();
            }
            Set<String> expected = new HashSet<>();
            for (int i = 1; i < clients.size(); i += 2) {
                expected.add(selfOf(clients.get(i), doc));
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                for (ServiceNode node : nodes) {
                    assertEquals(expected, memberIds(node, doc));
                }
            });
            for (int i = 1; i < clients.size(); i += 2) {
                clients.get(i).close();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** A client's own member id: it asks with a second join, which answers joined again. */
    private static String selfOf(WsClient client, String doc) {
        client.send("{\"type\":\"join\",\"id\":\"self\",\"doc\":\"" + doc + "\"}");
        return client.until(m -> "joined".equals(m.path("type").asText()) && "self".equals(m.path("id").asText()))
                .get("self").asText();
    }

    @Test
    void aKilledNodesMembersLeaveWithTimeoutOnceEverywhere() {
        String doc = doc("killed");
        try (ServiceNode doomed = ServiceNode.start(env("doomed-" + System.nanoTime(), TTL));
                WsClient observerA = nodes.get(0).connect("/ws");
                WsClient observerB = nodes.get(1).connect("/ws")) {
            String offset = join(observerA, doc).get("offset").asText();
            join(observerB, doc);
            observerA.next("presence");
            observerA.send("{\"type\":\"watch\",\"users\":[\"ghost0\"]}");
            observerA.next("status");
            List<WsClient> ghosts = new ArrayList<>();
            Set<String> ghostIds = new HashSet<>();
            for (int i = 0; i < 3; i++) {
                WsClient ghost = doomed.connect("/ws?user=ghost" + i);
                ghosts.add(ghost);
                ghostIds.add(join(ghost, doc).get("self").asText());
                if (i == 0) {
                    assertTrue(observerA.next("status").get("online").asBoolean());
                }
            }
            for (int i = 0; i < 3; i++) {
                observerA.untilType("presence");
                observerB.untilType("presence");
            }
            long killedAt = System.nanoTime();
            doomed.kill();
            JsonNode offline = null;
            for (WsClient observer : List.of(observerA, observerB)) {
                Set<String> left = new HashSet<>();
                while (left.size() < 3 || observer == observerA && offline == null) {
                    // leaves (reaped per document) and the status (reaped per node) come in either order
                    JsonNode m = observer.until(x -> "leave".equals(x.path("event").asText())
                            || "status".equals(x.path("type").asText()));
                    if ("status".equals(m.path("type").asText())) {
                        offline = m;
                        continue;
                    }
                    assertEquals("timeout", m.get("reason").asText());
                    assertTrue(left.add(m.at("/member/id").asText()), "each member leaves once");
                }
                assertEquals(ghostIds, left);
            }
            Duration took = Duration.ofNanos(System.nanoTime() - killedAt);
            assertTrue(took.compareTo(TTL.plus(RENEW).plus(Duration.ofSeconds(3))) < 0, "reaped after " + took);
            assertEquals("ghost0", offline.get("user").asText());
            assertTrue(!offline.get("online").asBoolean());

            // the log holds exactly one leave per ghost: nobody reaped twice
            try (WsClient auditor = nodes.get(2).connect("/ws")) {
                auditor.send("{\"type\":\"join\",\"doc\":\"" + doc + "\",\"since\":\"" + offset + "\"}");
                List<String> leaves = new ArrayList<>();
                JsonNode m;
                while (!"joined".equals((m = auditor.next()).path("type").asText())) {
                    if ("leave".equals(m.path("event").asText())) {
                        leaves.add(m.at("/member/id").asText());
                    }
                }
                assertTrue(m.get("resumed").asBoolean());
                assertEquals(3, leaves.size(), leaves.toString());
                assertEquals(ghostIds, new HashSet<>(leaves));
            }
            ghosts.forEach(WsClient::close);
        }
    }

    /**
     * Members who join a document new to their node and whose node dies before its next heartbeat:
     * a reader on another node (an event stream: no member there renews, or reaps, the document)
     * still hears each leave, with reason {@code timeout}.
     */
    @Test
    void membersJoinedJustBeforeTheirNodeIsKilledLeaveWithTimeout() throws Exception {
        String doc = doc("sudden");
        // a heartbeat every 5 s: the joins below land between two of them
        Map<String, String> slow = new HashMap<>(env("sudden-" + System.nanoTime(), Duration.ofSeconds(6)));
        slow.put("COPRESENCE_PRESENCE_RENEW_INTERVAL", "5s");
        try (ServiceNode doomed = ServiceNode.start(slow);
                SseClient reader = SseClient.open(nodes.get(0).http("/sse/documents/" + doc))) {
            Set<String> joined = new HashSet<>();
            List<WsClient> members = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                WsClient member = doomed.connect("/ws");
                members.add(member);
                joined.add(join(member, doc).get("self").asText());
            }
            for (int i = 0; i < 2; i++) {
                assertEquals("join", JSON.readTree(reader.next("presence").data()).get("event").asText());
            }
            doomed.kill();
            Set<String> left = new HashSet<>();
            while (left.size() < 2) {
                JsonNode leave = JSON.readTree(reader.next("presence").data());
                assertEquals("leave", leave.get("event").asText(), leave.toString());
                assertEquals("timeout", leave.get("reason").asText());
                left.add(leave.at("/member/id").asText());
            }
            assertEquals(joined, left);
            members.forEach(WsClient::close);
        }
    }

    /**
     * A node's document set in Redis (what is reaped if it dies) holds a document from its first
     * local join, and no longer once nobody there follows it: it does not grow with every document
     * the node ever served.
     */
    @Test
    void aNodesDocumentSetHoldsTheDocumentsItServesNow() {
        String doc = doc("served");
        String set = "cp:node:{" + nameInRedis("n0") + "}:docs";
        try (WsClient member = nodes.get(0).connect("/ws")) {
            join(member, doc);
            assertTrue(!redis.cli("ZSCORE", set, doc).isEmpty(), "in the set from the join on");
        }
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> redis.cli("ZSCORE", set, doc).isEmpty());
    }

    /** The name a node goes by in Redis now: its id and the suffix of this life of it. */
    String nameInRedis(String nodeId) {
        List<String> names = redis.cli("ZRANGEBYSCORE", "cp:nodes", "1", "+inf").lines() // not names given up (0)
                .filter(name -> name.equals(nodeId) || name.startsWith(nodeId + ".")).toList();
        assertEquals(1, names.size(), "names of " + nodeId + " in cp:nodes: " + names);
        return names.get(0);
    }

    /**
     * A node frozen past its lease (a long GC pause, a suspended VM) and reaped meanwhile: once it runs
     * again, its member is back, its user online again, and it stays so when the name it was reaped
     * under is reaped again; when it then dies, its member and its user go as any dead node's do.
     */
    @Test
    void aNodeReapedWhileFrozenComesBackWholeAndIsReapedAgainWhenItDies() {
        String doc = doc("frozen");
        String id = "frozen-" + System.nanoTime();
        String user = "thawed-" + System.nanoTime();
        try (ServiceNode frozen = ServiceNode.start(env(id, Duration.ofSeconds(10)));
                WsClient watcher = nodes.get(0).connect("/ws")) {
            String watcherId = join(watcher, doc).get("self").asText();
            Followed followed = follow(watcher, user, frozen, doc);
            WsClient member = followed.member();
            String memberId = followed.id();
            String name = nameInRedis(id);

            frozen.pause();
            try {
                // its lease runs out (without waiting for the TTL)
                redis.cli("DEL", "cp:node:{" + name + "}");
                redis.cli("ZADD", "cp:nodes", "0", name);
                JsonNode leave = watcher.until(m -> "leave".equals(m.path("event").asText()));
                assertEquals("timeout", leave.get("reason").asText());
                assertEquals(memberId, leave.at("/member/id").asText());
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> redis.cli("HLEN", "cp:user:{" + user + "}").equals("0"));
            } finally {
                frozen.resume();
            }

            // the member joins again and the user comes online again, in either order
            boolean joinedAgain = false;
            boolean onlineAgain = false;
            while (!joinedAgain || !onlineAgain) {
                JsonNode m = watcher.until(x -> "join".equals(x.path("event").asText())
                        || "status".equals(x.path("type").asText()) && x.get("online").asBoolean());
                if ("status".equals(m.path("type").asText())) {
                    assertEquals(user, m.get("user").asText());
                    onlineAgain = true;
                } else {
                    assertEquals(memberId, m.at("/member/id").asText());
                    joinedAgain = true;
                }
            }

            // the name it was reaped under is handed back to the reapers and reaped again, and nothing
            // of the new name goes with it: no leave, no offline
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> reapingsOf(name, frozen) == 2);
            assertEquals(List.of(), watcher.drain().stream()
                    .filter(m -> "leave".equals(m.path("event").asText()) || "status".equals(m.path("type").asText())).toList());
            try (WsClient late = nodes.get(1).connect("/ws")) {
                late.send("{\"type\":\"watch\",\"users\":[\"" + user + "\"]}");
                assertTrue(late.next("status").get("online").asBoolean(), "still online");
                assertEquals(Set.of(memberId, watcherId), memberIds(nodes.get(1), doc));
            }

            frozen.kill();
            JsonNode gone = watcher.until(m -> "leave".equals(m.path("event").asText()));
            assertEquals(memberId, gone.at("/member/id").asText());
            assertTrue(!watcher.until(m -> "status".equals(m.path("type").asText())).get("online").asBoolean());
            member.close();
        }
    }

    /**
     * A node whose expiry in {@code cp:nodes} looks past to the others (as when its clock runs behind
     * theirs) while its lease is still in Redis: nobody reaps it, and its member and user stay.
     */
    @Test
    void aNodeWhoseLeaseLivesIsNotReapedWhateverTheClocksSay() {
        String doc = doc("skewed");
        String id = "skewed-" + System.nanoTime();
        String user = "steady-" + System.nanoTime();
        try (ServiceNode skewed = ServiceNode.start(env(id, Duration.ofSeconds(10)));
                WsClient watcher = nodes.get(0).connect("/ws")) {
            join(watcher, doc);
            Followed followed = follow(watcher, user, skewed, doc);
            WsClient member = followed.member();
            String memberId = followed.id();
            String name = nameInRedis(id);

            skewed.pause(); // so that its own heartbeat does not put its expiry right first
            try {
                redis.cli("ZADD", "cp:nodes", "0", name);
                Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> nodes.stream()
                        .anyMatch(node -> node.log().contains("not reaping node " + name + ":")));
                assertEquals(List.of(), watcher.drain().stream()
                        .filter(m -> "leave".equals(m.path("event").asText()) || "status".equals(m.path("type").asText())).toList());
            } finally {
                skewed.resume();
            }
            assertEquals(Set.of(memberId, selfOf(watcher, doc)), memberIds(nodes.get(1), doc));
            member.close();
        }
    }

    /** A user's connection on a node and its member in a document. */
    record Followed(WsClient member, String id) {
    }

    /**
     * The watcher, a member of the document, follows the user, who then connects on {@code node}
     * and joins it: the watcher sees the user come online and the member join.
     */
    static Followed follow(WsClient watcher, String user, ServiceNode node, String doc) {
        watcher.send("{\"type\":\"watch\",\"users\":[\"" + user + "\"]}");
        assertTrue(!watcher.next("status").get("online").asBoolean());
        WsClient member = node.connect("/ws?user=" + user);
        assertTrue(watcher.next("status").get("online").asBoolean());
        String memberId = join(member, doc).get("self").asText();
        assertEquals(memberId, watcher.untilType("presence").at("/member/id").asText());
        return new Followed(member, memberId);
    }

    /** How many times a node name was reaped, by any node (each says so in its log). */
    int reapingsOf(String name, ServiceNode... others) {
        List<ServiceNode> all = new ArrayList<>(nodes);
        all.addAll(List.of(others));
        return all.stream().mapToInt(node -> (int) node.log().lines().filter(l -> l.endsWith("reaped dead node " + name)).count()).sum();
    }

    /**
     * A node killed and started again at once under the same configured id (a StatefulSet's pod
     * name): the users of its first life go offline when that life's lease runs out, although the
     * id lives on.
     */
    @Test
    void theUsersOfANodeRestartedUnderTheSameIdGoOfflineWithItsFirstLife() {
        String id = "phoenix-" + System.nanoTime();
        String user = "ashes-" + System.nanoTime();
        try (WsClient watcher = nodes.get(0).connect("/ws")) {
            watcher.send("{\"type\":\"watch\",\"users\":[\"" + user + "\"]}");
            watcher.next("status");
            try (ServiceNode first = ServiceNode.start(env(id, TTL))) {
                WsClient connection = first.connect("/ws?user=" + user);
                assertTrue(watcher.next("status").get("online").asBoolean());
                first.kill();
                connection.close();
            }
            try (ServiceNode second = ServiceNode.start(env(id, TTL))) {
                JsonNode offline = watcher.next("status");
                assertEquals(user, offline.get("user").asText());
                assertTrue(!offline.get("online").asBoolean());
            }
        }
    }

    /**
     * A drain: the node's members leave at once and its sockets close with 1001; its event streams end
     * as a response ends (an EventSource then reconnects with its Last-Event-ID, to another node) and
     * its waiting long polls are answered, rather than cut. One node for all of it: each costs the
     * suite a start.
     */
    @Test
    void aDrainedNodesMembersLeaveWithClosedAtOnceAndItsClientsAndReadersResumeElsewhere() throws Exception {
        String doc = doc("drained");
        try (ServiceNode draining = ServiceNode.start(env("draining-" + System.nanoTime(), Duration.ofSeconds(60)));
                WsClient observer = nodes.get(0).connect("/ws")) {
            join(observer, doc);
            WsClient moving = draining.connect("/ws");
            String movingId = join(moving, doc).get("self").asText();
            observer.next("presence");
            Map<String, Integer> received = new HashMap<>();
            observer.send("{\"type\":\"broadcast\",\"doc\":\"" + doc + "\",\"data\":\"before\"}");
            JsonNode before = moving.next("broadcast");
            String lastOffset = before.get("offset").asText();
            received.merge(before.get("data").asText(), 1, Integer::sum);
            SseClient stream = SseClient.open(draining.http("/sse/documents/" + doc));
            assertEquals("members", stream.next().event());
            java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>> poll = java.net.http.HttpClient.newHttpClient()
                    .sendAsync(java.net.http.HttpRequest.newBuilder(draining.http("/poll/documents/" + doc + "?since=" + lastOffset
                            + "&timeout=30")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            Awaitility.await("the stream and the poll follow the document").atMost(Duration.ofSeconds(10)).until(() ->
                    PrometheusText.sum(draining.get("/q/metrics"), "copresence_observers") >= 2);

            draining.terminate();
            java.net.http.HttpResponse<String> answer = poll.get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(200, answer.statusCode(), answer.body());
            JsonNode polled = JSON.readTree(answer.body());
            assertEquals(0, polled.get("events").size(), "nothing new: " + answer.body());
            assertEquals(lastOffset, polled.get("offset").asText(), "polled again, from where it stood");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(stream::ended);
            assertEquals(null, stream.failure(), "the stream ended as a response ends, not cut");
            JsonNode leave = observer.until(m -> "leave".equals(m.path("event").asText()));
            assertEquals("closed", leave.get("reason").asText(), "a drain does not wait for the 60 s TTL");
            assertEquals(movingId, leave.at("/member/id").asText());
            List<JsonNode> rest = moving.received();
            for (JsonNode m : rest) {
                if ("broadcast".equals(m.path("type").asText())) {
                    received.merge(m.get("data").asText(), 1, Integer::sum);
                    lastOffset = m.get("offset").asText();
                }
            }
            assertEquals(1001, moving.awaitClose());

            observer.send("{\"type\":\"broadcast\",\"doc\":\"" + doc + "\",\"data\":\"while away\"}");
            try (WsClient back = nodes.get(1).connect("/ws")) {
                back.send("{\"type\":\"join\",\"doc\":\"" + doc + "\",\"since\":\"" + lastOffset + "\"}");
                JsonNode m;
                while (!"joined".equals((m = back.next()).path("type").asText())) {
                    if ("broadcast".equals(m.path("type").asText())) {
                        received.merge(m.get("data").asText(), 1, Integer::sum);
                    }
                }
                assertTrue(m.get("resumed").asBoolean());
            }
            assertEquals(Map.of("before", 1, "while away", 1), received, "nothing durable missed, nothing twice");
            try (SseClient again = SseClient.open(nodes.get(1).http("/sse/documents/" + doc), Map.of("Last-Event-ID", lastOffset))) {
                assertEquals("while away", JSON.readTree(again.next("broadcast").data()).get("data").asText(),
                        "the EventSource's reconnect, elsewhere, resumes");
            }
        }
    }
}
