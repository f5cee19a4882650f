package dev.copresence.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.copresence.support.CloseAll;
import dev.copresence.support.PrometheusText;
import dev.copresence.support.RedisServer;
import dev.copresence.support.ServiceNode;
import dev.copresence.support.SseClient;
import dev.copresence.support.WsClient;

/**
 * One node loses its Redis connections for a while and cannot connect again (its Redis user is
 * disabled), while another node's member broadcasts without pause. Once the node hears Redis again,
 * its members and its event-stream readers get every broadcast, in order, exactly once: those sent
 * while it was deaf from the log, those sent after from pub/sub.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PubSubGapIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final AtomicInteger acked = new AtomicInteger();
    private RedisServer redis;
    private ServiceNode speaker;
    private ServiceNode listener;

    @BeforeAll
    void start() {
        redis = RedisServer.start();
        for (String user : List.of("admin", "speaker", "deaf")) {
            redis.cli("ACL", "SETUSER", user, "on", ">secret", "~*", "&*", "+@all");
        }
        // a client whose user is refused must not fall back to the default one
        redis.cli("ACL", "SETUSER", "default", "off");
        Map<String, String> common = Map.of("COPRESENCE_PRESENCE_TTL", "5s", "COPRESENCE_PRESENCE_RENEW_INTERVAL", "1s",
                "COPRESENCE_LIMITS_RATE", "100000", "COPRESENCE_LIMITS_BURST", "100000", "COPRESENCE_HISTORY_SIZE", "100000",
                // a typing flag ends well within the presence TTL, which refused renewals run out
                "COPRESENCE_TYPING_TTL", "2s",
                // a catch-up this long always ends the event stream as a slow reader, which then resumes
                "COPRESENCE_SSE_BUFFER", "64");
        speaker = ServiceNode.start(with(common, "redis://speaker:secret@127.0.0.1:" + redis.port()));
        listener = ServiceNode.start(with(common, "redis://deaf:secret@127.0.0.1:" + redis.port()));
    }

    @AfterAll
    void stop() {
        CloseAll.of(listener, speaker, redis);
    }

    @Test
    void broadcastsSentWhileANodeWasDeafReachItsReadersInOrderOnceItHearsAgain() throws Exception {
        String doc = "gap-" + System.nanoTime();
        String readOnlyDoc = doc + "-read";
        try (WsClient ada = speaker.connect("/ws?user=ada"); WsClient bob = listener.connect("/ws?user=bob");
                SseClient reader = SseClient.open(listener.http("/sse/documents/" + readOnlyDoc))) {
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            ada.send("{\"type\":\"join\",\"doc\":\"" + readOnlyDoc + "\"}").next("joined");
            bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            ada.next("presence");

            acked.set(0);
            AtomicBoolean speaking = new AtomicBoolean(true);
            CompletableFuture<Integer> sent = CompletableFuture.supplyAsync(() -> speak(ada, doc, readOnlyDoc, speaking));
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> acked.get() > 20);

            cutOffListener();
            int beforeHearing = acked.get();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> acked.get() > beforeHearing + 100);
            admin("ACL", "SETUSER", "deaf", "on");
            Awaitility.await().atMost(Duration.ofSeconds(15)).until(listener::ready);
            int afterHearing = acked.get();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> acked.get() > afterHearing + 20);
            speaking.set(false);
            int total = sent.get(20, TimeUnit.SECONDS);

            List<Integer> heardByBob = new ArrayList<>();
            List<String> offsets = new ArrayList<>();
            while (heardByBob.isEmpty() || heardByBob.get(heardByBob.size() - 1) != total - 1) {
                JsonNode m = bob.next("broadcast");
                heardByBob.add(m.get("data").asInt());
                offsets.add(m.get("offset").asText());
            }
            assertEquals(List.of(), gaps(heardByBob, total), "every broadcast once, in order: " + heardByBob.size() + " of " + total);
            // as an EventSource does: a stream ended as a slow reader (a catch-up of more than copresence.sse.buffer
            // events at once) is opened again with the last id it got, and resumes from the log
            List<Integer> heardByReader = new ArrayList<>();
            SseClient stream = reader;
            String lastId = null;
            int reopened = 0;
            while (heardByReader.isEmpty() || heardByReader.get(heardByReader.size() - 1) != total - 1) {
                SseClient.Event event = stream.poll(stream.ended() ? Duration.ofMillis(100) : WsClient.TIMEOUT);
                if (event == null && stream.ended() && lastId != null && reopened++ < 20) {
                    stream = SseClient.open(listener.http("/sse/documents/" + readOnlyDoc), Map.of("Last-Event-ID", lastId));
                    continue;
                }
                if (event == null) {
                    throw new AssertionError("the event stream stopped (ended: " + stream.ended() + ") after " + heardByReader.size()
                            + " of " + total + " broadcasts: " + gaps(heardByReader, total));
                }
                if ("broadcast".equals(event.event())) {
                    heardByReader.add(JSON.readTree(event.data()).get("data").asInt());
                    lastId = event.id();
                }
            }
            if (stream != reader) {
                stream.close();
            }
            assertEquals(List.of(), gaps(heardByReader, total), "every broadcast once, in order, on the event stream: "
                    + heardByReader.size() + " of " + total);
            assertEquals(total, offsets.stream().distinct().count());
            assertEquals(List.of(), bob.drain().stream().filter(m -> "broadcast".equals(m.path("type").asText())).toList(),
                    "nothing repeated");
            assertEquals(1, admin("CLIENT", "LIST", "TYPE", "pubsub").lines().filter(c -> c.contains("user=deaf")).count(),
                    "one pub/sub connection: the refused attempts left none behind");
        }
    }

    /**
     * The node is deaf while the log is trimmed past the last event it delivered (a gap longer than
     * the history): what it missed is gone for good. Its member's connection is closed with 1013
     * instead of going on with a hole, and its resume says it must rebuild; its event stream ends, and
     * opens again with the members.
     */
    @Test
    void readersOfANodeThatMissedEventsTrimmedFromTheHistoryAreToldToResume() throws Exception {
        String doc = "trimmed-" + System.nanoTime();
        try (SseClient reader = SseClient.open(listener.http("/sse/documents/" + doc));
                WsClient ada = speaker.connect("/ws?user=ada"); WsClient bob = listener.connect("/ws?user=bob")) {
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            ada.next("presence");
            ada.send("{\"type\":\"broadcast\",\"id\":0,\"doc\":\"" + doc + "\",\"data\":\"before\"}").next("ack");
            String bobSaw = bob.next("broadcast").get("offset").asText();
            SseClient.Event seen;
            do {
                seen = reader.next();
            } while (!"broadcast".equals(seen.event()));

            double incompleteBefore = incompleteCatchUps();
            cutOffListener();
            for (int n = 1; n <= 5; n++) {
                ada.send("{\"type\":\"broadcast\",\"id\":" + n + ",\"doc\":\"" + doc + "\",\"data\":" + n + "}").next("ack");
            }
            admin("XTRIM", "cp:{" + doc + "}:log", "MAXLEN", "2"); // 4 and 5 are left
            admin("ACL", "SETUSER", "deaf", "on");

            assertEquals(1013, bob.awaitClose(), "closed rather than going on after a hole");
            assertEquals(List.of(), bob.received().stream().filter(m -> "broadcast".equals(m.path("type").asText())).toList(),
                    "nothing after the hole");
            assertEquals(incompleteBefore + 1, incompleteCatchUps(), "counted for operators");
            try (WsClient again = listener.connect("/ws?user=bob")) {
                JsonNode joined = again.send("{\"type\":\"join\",\"doc\":\"" + doc + "\",\"since\":\"" + bobSaw + "\"}")
                        .next("joined");
                assertEquals(false, joined.get("resumed").asBoolean(), joined.toString());
                assertEquals(List.of("ada", "bob"), joined.get("members").findValuesAsText("id").stream()
                        .filter(id -> !id.startsWith("m-")).distinct().sorted().toList(), "rebuilt from the members: " + joined);
            }

            Awaitility.await().atMost(WsClient.TIMEOUT).until(reader::ended);
            try (SseClient reopened = SseClient.open(listener.http("/sse/documents/" + doc), Map.of("Last-Event-ID", seen.id()))) {
                assertEquals("members", reopened.next().event(), "opens with the members: it cannot resume");
            }
        } finally {
            admin("ACL", "SETUSER", "deaf", "on");
        }
    }

    /**
     * The same on a document the node's readers only watch (an event stream and a long poll), quiet
     * until the node goes deaf: the node has passed none of its events on, so the hole is judged
     * from where its readers opened.
     */
    @Test
    void readersOfAQuietDocumentWhoseGapWasTrimmedAreToldToResume() throws Exception {
        String doc = "quiet-" + System.nanoTime();
        try (SseClient reader = SseClient.open(listener.http("/sse/documents/" + doc));
                WsClient ada = speaker.connect("/ws?user=ada")) {
            SseClient.Event opening = reader.next();
            assertEquals("members", opening.event());
            double observersBefore = metric("copresence_observers");
            CompletableFuture<HttpResponse<String>> poll = HttpClient.newHttpClient().sendAsync(
                    HttpRequest.newBuilder(listener.http("/poll/documents/" + doc + "?since=" + opening.id() + "&timeout=30")).build(),
                    HttpResponse.BodyHandlers.ofString());
            Awaitility.await().atMost(WsClient.TIMEOUT).until(() -> metric("copresence_observers") > observersBefore);

            cutOffListener();
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            for (int n = 1; n <= 3; n++) {
                ada.send("{\"type\":\"broadcast\",\"id\":" + n + ",\"doc\":\"" + doc + "\",\"data\":" + n + "}").next("ack");
            }
            admin("XTRIM", "cp:{" + doc + "}:log", "MAXLEN", "1"); // the last broadcast is left
            admin("ACL", "SETUSER", "deaf", "on");

            JsonNode answer = JSON.readTree(poll.get(WsClient.TIMEOUT.toSeconds(), TimeUnit.SECONDS).body());
            assertEquals(0, answer.get("events").size(), "no event after the hole: " + answer);
            assertEquals(opening.id(), answer.get("offset").asText(), "polled again from where it was: " + answer);
            JsonNode again = JSON.readTree(listener.get("/poll/documents/" + doc + "?since=" + opening.id()));
            assertEquals(false, again.get("resumed").asBoolean(), "and told to rebuild: " + again);

            Awaitility.await().atMost(WsClient.TIMEOUT).until(reader::ended);
            List<String> sent = new ArrayList<>();
            for (SseClient.Event e; (e = reader.poll(Duration.ZERO)) != null;) {
                sent.add(e.event());
            }
            assertEquals(List.of(), sent, "no event after the hole");
            try (SseClient reopened = SseClient.open(listener.http("/sse/documents/" + doc), Map.of("Last-Event-ID", opening.id()))) {
                assertEquals("members", reopened.next().event(), "opens with the members: it cannot resume");
            }
        } finally {
            admin("ACL", "SETUSER", "deaf", "on");
        }
    }

    /**
     * The node hears again but cannot read the log (its scripts are refused) in three tries: what it
     * missed cannot be known, so its member is closed with 1013 too. Nothing was trimmed, so once the
     * node can read again the member's resume brings every event it missed.
     */
    @Test
    void aMemberOfANodeThatCannotReadTheLogAfterAGapResumesWithoutLoss() {
        String doc = "unread-" + System.nanoTime();
        try (WsClient ada = speaker.connect("/ws?user=ada"); WsClient bob = listener.connect("/ws?user=bob")) {
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            String bobSaw = bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined").get("offset").asText();
            ada.next("presence");

            cutOffListener();
            for (int n = 1; n <= 3; n++) {
                ada.send("{\"type\":\"broadcast\",\"id\":" + n + ",\"doc\":\"" + doc + "\",\"data\":" + n + "}").next("ack");
            }
            admin("ACL", "SETUSER", "deaf", "-@scripting", "on");
            assertEquals(1013, bob.awaitClose(), "closed rather than going on without knowing what it missed");
            assertEquals(List.of(), bob.received().stream().filter(m -> "broadcast".equals(m.path("type").asText())).toList());
            admin("ACL", "SETUSER", "deaf", "+@scripting");

            try (WsClient again = listener.connect("/ws?user=bob")) {
                again.send("{\"type\":\"join\",\"id\":\"r\",\"doc\":\"" + doc + "\",\"since\":\"" + bobSaw + "\"}");
                List<Integer> replayed = new ArrayList<>();
                JsonNode m;
                while (!"joined".equals((m = again.next()).path("type").asText())) {
                    if ("broadcast".equals(m.path("type").asText())) {
                        replayed.add(m.get("data").asInt());
                    }
                }
                assertEquals(true, m.get("resumed").asBoolean(), m.toString());
                assertEquals(List.of(1, 2, 3), replayed, "every event it missed, from the log");
            }
        } finally {
            admin("ACL", "SETUSER", "deaf", "+@scripting", "on");
        }
    }

    /**
     * Redis cuts a subscriber whose channels its user may no longer read, and refuses its new
     * subscriptions without an answer the client library reports: the node must not count itself
     * subscribed (and ready) until Redis confirms, and must hear again once allowed.
     */
    @Test
    void aNodeRefusedItsChannelsIsNotReadyAndHearsAgainOnceAllowed() {
        String doc = "refused-" + System.nanoTime();
        try (WsClient ada = speaker.connect("/ws?user=ada"); WsClient bob = listener.connect("/ws?user=bob")) {
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            ada.next("presence");

            admin("ACL", "SETUSER", "deaf", "resetchannels");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !listener.ready());
            ada.send("{\"type\":\"broadcast\",\"id\":1,\"doc\":\"" + doc + "\",\"data\":\"while refused\"}").next("ack");
            admin("ACL", "SETUSER", "deaf", "allchannels");
            Awaitility.await().atMost(Duration.ofSeconds(15)).until(listener::ready);
            ada.send("{\"type\":\"broadcast\",\"id\":2,\"doc\":\"" + doc + "\",\"data\":\"allowed\"}").next("ack");
            assertEquals("while refused", bob.next("broadcast").get("data").asText());
            assertEquals("allowed", bob.next("broadcast").get("data").asText());
        } finally {
            admin("ACL", "SETUSER", "deaf", "allchannels");
        }
    }

    /** A user who comes online while a node cannot hear: that node's watchers learn it once it hears again. */
    @Test
    void aStatusChangeWhileANodeWasDeafReachesItsWatchersOnceItHearsAgain() {
        String user = "dora-" + System.nanoTime();
        try (WsClient bob = watching(listener, user)) {

            cutOffListener();
            try (WsClient dora = speaker.connect("/ws?user=" + user)) {
                Awaitility.await().atMost(Duration.ofSeconds(10))
                        .until(() -> speaker.get("/api/status?users=" + user).contains("\"online\":true"));
                admin("ACL", "SETUSER", "deaf", "on");
                JsonNode status = bob.next("status");
                assertEquals(user, status.get("user").asText());
                assertEquals(true, status.get("online").asBoolean(), "online, heard after the gap: " + status);
            }
            assertEquals(false, bob.next("status").get("online").asBoolean(), "and live changes after it");
        } finally {
            admin("ACL", "SETUSER", "deaf", "on");
        }
    }

    /**
     * A user's last connection closes while its node's writes to Redis fail (here: its scripts are
     * refused): the user still goes offline for everyone once the node can write again.
     */
    @Test
    void aUserWhoseDisconnectCouldNotBeWrittenGoesOfflineOnceItCanBe() {
        String user = "erin-" + System.nanoTime();
        try (WsClient bob = watching(speaker, user)) {
            WsClient erin = listener.connect("/ws?user=" + user);
            assertEquals(true, bob.next("status").get("online").asBoolean());

            whileCountsCannotBeWritten(() -> {
                erin.closeGracefully();
                return erin;
            });
            JsonNode offline = bob.next("status");
            assertEquals(user, offline.get("user").asText());
            assertEquals(false, offline.get("online").asBoolean(), offline.toString());
        } finally {
            admin("ACL", "SETUSER", "deaf", "+@all");
        }
    }

    /** A new user's first connection while its node's writes fail: the user still comes online once they can. */
    @Test
    void aNewUserWhoseConnectCouldNotBeWrittenComesOnlineOnceItCanBe() {
        String user = "fred-" + System.nanoTime();
        try (WsClient bob = watching(speaker, user);
                WsClient fred = whileCountsCannotBeWritten(() -> listener.connect("/ws?user=" + user))) {
            JsonNode online = bob.next("status");
            assertEquals(user, online.get("user").asText());
            assertEquals(true, online.get("online").asBoolean(), "never seen by Redis before, and still announced: " + online);
        } finally {
            admin("ACL", "SETUSER", "deaf", "+@all");
        }
    }

    /** A client on {@code node} watching {@code user}, who is offline. */
    /**
     * An update and a typing change that the registry refused are answered with {@code internal} and
     * change nothing: the member's next update announces only what it changes, and the registry
     * (what REST and every renewal read) holds the member as it was.
     */
    @Test
    void anUpdateAndATypingChangeAnsweredWithAnErrorChangeNothing() throws Exception {
        String doc = "refused-" + System.nanoTime();
        try (WsClient ada = speaker.connect("/ws?user=ada"); WsClient bob = listener.connect("/ws?user=bob")) {
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\",\"state\":{\"color\":\"red\"}}").next("joined");
            ada.next("presence");

            admin("ACL", "SETUSER", "deaf", "-@scripting");
            try {
                assertEquals("internal", bob.send("{\"type\":\"update\",\"id\":1,\"doc\":\"" + doc
                        + "\",\"state\":{\"secret\":1}}").next("error").get("code").asText());
                assertEquals("internal", bob.send("{\"type\":\"typing\",\"id\":2,\"doc\":\"" + doc
                        + "\",\"typing\":true}").next("error").get("code").asText());
            } finally {
                admin("ACL", "SETUSER", "deaf", "+@scripting");
            }
            bob.send("{\"type\":\"update\",\"id\":3,\"doc\":\"" + doc + "\",\"state\":{\"size\":2}}").next("ack");

            JsonNode member = ada.untilType("presence").get("member");
            assertEquals("{\"color\":\"red\",\"size\":2}", member.get("state").toString(), "the refused key is not announced");
            assertEquals(false, member.get("typing").asBoolean(), "nor the refused typing");
            JsonNode stored = JSON.readTree(speaker.get("/api/documents/" + doc + "/members")).get("members");
            assertEquals(List.of("{\"color\":\"red\",\"size\":2}"), stored.findValues("state").stream()
                    .map(JsonNode::toString).filter(state -> state.contains("color")).toList(), "nor stored: " + stored);
        }
    }

    @Test
    void aTypingFlagThatEndedWhileItsWriteWasRefusedEndsForTheOthersOnceItCanBeWritten() throws Exception {
        String doc = "typing-ended-" + System.nanoTime();
        try (WsClient ada = speaker.connect("/ws?user=ada"); WsClient bob = listener.connect("/ws?user=bob")) {
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}").next("joined");
            ada.next("presence");
            double refusedBefore = refusedStores();
            bob.send("{\"type\":\"typing\",\"id\":1,\"doc\":\"" + doc + "\",\"typing\":true}").next("ack");
            admin("ACL", "SETUSER", "deaf", "-@scripting"); // well within the typing TTL (2 s)
            try { // bob stops typing: its timer ends the flag, whose write Redis refuses
                assertTrue(ada.next("typing").get("typing").asBoolean());
                Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> refusedStores() > refusedBefore);
            } finally {
                admin("ACL", "SETUSER", "deaf", "+@scripting");
            }
            JsonNode ended = ada.next("typing");
            assertEquals(false, ended.get("typing").asBoolean(), "ada does not see bob typing for good");
            JsonNode stored = JSON.readTree(speaker.get("/api/documents/" + doc + "/members")).get("members");
            assertFalse(stored.findValues("typing").stream().anyMatch(JsonNode::asBoolean), "nor is it stored: " + stored);
        }
    }

    /** The listener's store.lua calls (updates and typing changes) that Redis refused. */
    private double refusedStores() {
        return listener.get("/q/metrics").lines().filter(line -> line.startsWith("copresence_redis_errors_total{script=\"store\""))
                .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
    }

    private static WsClient watching(ServiceNode node, String user) {
        WsClient watcher = node.connect("/ws?user=bob");
        watcher.send("{\"type\":\"watch\",\"users\":[\"" + user + "\"]}");
        assertEquals(false, watcher.next("status").get("online").asBoolean());
        return watcher;
    }

    /** The listener's connections are cut, and it cannot connect again until its user is enabled again. */
    private void cutOffListener() {
        admin("ACL", "SETUSER", "deaf", "off");
        admin("CLIENT", "KILL", "USER", "deaf");
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !listener.ready());
    }

    /**
     * Makes {@code change} while the listener's scripts are refused, waits until the listener has
     * failed to write a user's count, then allows them again; returns what {@code change} gave.
     */
    private <T> T whileCountsCannotBeWritten(Supplier<T> change) {
        int failedBefore = failedStatusWrites();
        admin("ACL", "SETUSER", "deaf", "-@scripting");
        T changed = change.get();
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> failedStatusWrites() > failedBefore);
        admin("ACL", "SETUSER", "deaf", "+@scripting");
        return changed;
    }

    /** The listener's count of catch-ups that could not read every missed event. */
    private double incompleteCatchUps() {
        return metric("copresence_catchup_incomplete_total");
    }

    /** One of the listener's metrics without tags, as Prometheus reads it. */
    private double metric(String name) {
        return PrometheusText.sum(listener.get("/q/metrics"), name);
    }

    /** The listener's warnings that a user's count was not written. */
    private int failedStatusWrites() {
        return listener.log().split("status of a user not recorded", -1).length - 1;
    }

    private String admin(String... command) {
        List<String> args = new ArrayList<>(List.of("--user", "admin", "--pass", "secret", "--no-auth-warning"));
        args.addAll(List.of(command));
        return redis.cli(args.toArray(String[]::new));
    }

    private static Map<String, String> with(Map<String, String> common, String redisUri) {
        Map<String, String> env = new HashMap<>(common);
        env.put("QUARKUS_REDIS_HOSTS", redisUri);
        return env;
    }

    /** Broadcasts 0, 1, 2... to both documents, each after the last one's ack, until told to stop; returns how many. */
    private int speak(WsClient speaker, String doc, String otherDoc, AtomicBoolean speaking) {
        int n = 0;
        while (speaking.get()) {
            for (String d : List.of(doc, otherDoc)) {
                speaker.send("{\"type\":\"broadcast\",\"id\":" + n + ",\"doc\":\"" + d + "\",\"data\":" + n + "}");
                JsonNode answer = speaker.until(m -> m.has("id") && !"joined".equals(m.path("type").asText()));
                assertEquals("ack", answer.get("type").asText(), answer.toString());
            }
            n++;
            acked.set(n);
        }
        return n;
    }

    /** Where {@code heard} departs from 0, 1, ... total - 1: "missing a..b" and "repeated or out of order n". */
    private static List<String> gaps(List<Integer> heard, int total) {
        List<String> gaps = new ArrayList<>();
        int expected = 0;
        for (int n : heard) {
            if (n > expected) {
                gaps.add("missing " + expected + ".." + (n - 1));
            } else if (n < expected) {
                gaps.add("repeated or out of order " + n);
                continue;
            }
            expected = n + 1;
        }
        if (expected < total) {
            gaps.add("missing " + expected + ".." + (total - 1));
        }
        return gaps;
    }
}
