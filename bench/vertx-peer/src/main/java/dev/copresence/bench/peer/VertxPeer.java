package dev.copresence.bench.peer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A minimal raw Vert.x broadcast server: the ceiling of our stack. It does the work every peer of the
 * benchmark does, and no more: join a room (with a state, answered with the room's members, the
 * others told), leave, update a state, broadcast to the room with the sender's payload. No registry,
 * no log, no offsets, no limits, no flow control: one event loop, plain maps.
 *
 * <p>Messages are the JSON shapes of Copresence protocol v1 ({@code join}, {@code leave},
 * {@code update}, {@code broadcast}; {@code joined}, {@code presence}, {@code broadcast}, {@code ack}),
 * so the same driver speaks to it. {@code observe} (a benchmark extension, not Copresence protocol)
 * puts the socket in a room without making it a member, the stand-in for Copresence's SSE observer:
 * it gets everything the members get, nobody is told, it gets no member list, and it is answered
 * with an {@code ack}.
 */
public final class VertxPeer {

    static final class Member {
        final String id;
        final String user;
        final ServerWebSocket ws;
        final Map<String, JsonObject> states = new HashMap<>(); // doc -> state

        Member(String id, String user, ServerWebSocket ws) {
            this.id = id;
            this.user = user;
            this.ws = ws;
        }

        JsonObject json(String doc) {
            return new JsonObject().put("id", id).put("user", new JsonObject().put("id", user))
                    .put("state", states.get(doc));
        }
    }

    static final Map<String, Map<String, Member>> rooms = new HashMap<>();
    static final Map<String, Set<ServerWebSocket>> observers = new HashMap<>();
    static long ids;

    public static void main(String[] args) {
        int port = Integer.parseInt(System.getProperty("port", args.length > 0 ? args[0] : "8090"));
        // the transport Copresence runs on (epoll on Linux), unless -Dnative=false asks for NIO
        boolean nativeTransport = Boolean.parseBoolean(System.getProperty("native", "true"));
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(nativeTransport));
        vertx.createHttpServer(new HttpServerOptions().setPort(port).setHost("127.0.0.1").setTcpNoDelay(true)
                .setMaxWebSocketMessageSize(1 << 20))
                .webSocketHandler(VertxPeer::onSocket)
                .requestHandler(req -> req.response().end("vertx-peer\n"))
                .listen()
                .onSuccess(s -> System.out.println("vertx-peer listening on " + s.actualPort()
                        + (vertx.isNativeTransportEnabled() ? " (epoll)" : " (nio)")))
                .onFailure(e -> {
                    e.printStackTrace();
                    System.exit(1);
                });
    }

    static void onSocket(ServerWebSocket ws) {
        String user = ws.query() == null ? null : query(ws.query(), "user");
        Member self = new Member("m" + (++ids), user == null ? "anon" + ids : user, ws);
        Set<String> observing = new HashSet<>(); // docs this socket observes
        ws.textMessageHandler(text -> {
            JsonObject msg;
            try {
                msg = new JsonObject(text);
            } catch (RuntimeException e) {
                ws.writeTextMessage("{\"type\":\"error\",\"code\":\"bad_json\"}");
                return;
            }
            String doc = msg.getString("doc");
            switch (String.valueOf(msg.getString("type"))) {
                case "join" -> join(self, doc, msg.getJsonObject("state", new JsonObject()));
                case "leave" -> {
                    leave(self, doc, "left");
                    ws.writeTextMessage(new JsonObject().put("type", "ack").put("id", msg.getValue("id")).encode());
                }
                case "update" -> {
                    JsonObject state = self.states.get(doc);
                    if (state != null) {
                        msg.getJsonObject("state", new JsonObject()).forEach(e -> {
                            if (e.getValue() == null) {
                                state.remove(e.getKey());
                            } else {
                                state.put(e.getKey(), e.getValue());
                            }
                        });
                        toOthers(self, doc, new JsonObject().put("type", "presence").put("doc", doc)
                                .put("event", "update").put("member", self.json(doc)).encode());
                    }
                }
                case "observe" -> {
                    if (doc != null) {
                        observing.add(doc);
                        observers.computeIfAbsent(doc, d -> new LinkedHashSet<>()).add(ws);
                        ws.writeTextMessage(new JsonObject().put("type", "ack").put("id", msg.getValue("id")).encode());
                    }
                }
                case "broadcast" -> toOthers(self, doc, new JsonObject().put("type", "broadcast").put("doc", doc)
                        .put("from", self.id).put("data", msg.getValue("data")).encode());
                default -> ws.writeTextMessage("{\"type\":\"error\",\"code\":\"unknown_type\"}");
            }
        });
        ws.closeHandler(v -> {
            for (String doc : new ArrayList<>(self.states.keySet())) {
                leave(self, doc, "closed");
            }
            for (String doc : observing) {
                Set<ServerWebSocket> set = observers.get(doc);
                if (set != null && set.remove(ws) && set.isEmpty()) {
                    observers.remove(doc);
                }
            }
        });
    }

    static void join(Member self, String doc, JsonObject state) {
        Map<String, Member> room = rooms.computeIfAbsent(doc, d -> new LinkedHashMap<>());
        self.states.put(doc, state);
        room.put(self.id, self);
        List<Object> members = new ArrayList<>();
        for (Member m : room.values()) {
            members.add(m.json(doc));
        }
        self.ws.writeTextMessage(new JsonObject().put("type", "joined").put("doc", doc).put("self", self.id)
                .put("members", new JsonArray(members)).encode());
        toOthers(self, doc, new JsonObject().put("type", "presence").put("doc", doc).put("event", "join")
                .put("member", self.json(doc)).encode());
    }

    static void leave(Member self, String doc, String reason) {
        Map<String, Member> room = rooms.get(doc);
        if (room == null || room.remove(self.id) == null) {
            return;
        }
        String frame = new JsonObject().put("type", "presence").put("doc", doc).put("event", "leave")
                .put("member", self.json(doc)).put("reason", reason).encode();
        self.states.remove(doc);
        if (room.isEmpty()) {
            rooms.remove(doc);
        }
        toOthers(self, doc, frame);
    }

    /** The frame is encoded once and the same string written to every other member and every observer. */
    static void toOthers(Member self, String doc, String frame) {
        Map<String, Member> room = rooms.get(doc);
        if (room != null) {
            for (Member m : room.values()) {
                if (m != self && !m.ws.isClosed()) {
                    m.ws.writeTextMessage(frame);
                }
            }
        }
        Set<ServerWebSocket> watching = observers.get(doc);
        if (watching != null) {
            for (ServerWebSocket ws : watching) {
                if (!ws.isClosed()) {
                    ws.writeTextMessage(frame);
                }
            }
        }
    }

    static String query(String q, String key) {
        for (String part : q.split("&")) {
            int eq = part.indexOf('=');
            if (eq > 0 && part.substring(0, eq).equals(key)) {
                return part.substring(eq + 1);
            }
        }
        return null;
    }
}
