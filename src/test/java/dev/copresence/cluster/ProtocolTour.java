package dev.copresence.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

import dev.copresence.support.ServiceNode;
import dev.copresence.support.WsClient;

/** The protocol exercised across two nodes of the service, whatever Redis topology is under them. */
final class ProtocolTour {
    private ProtocolTour() {
    }

    static void acrossTwoNodes(ServiceNode a, ServiceNode b, String doc) {
        try (WsClient ada = a.connect("/ws?user=ada"); WsClient bob = b.connect("/ws?user=bob")) {
            ada.send("{\"type\":\"join\",\"doc\":\"" + doc + "\",\"state\":{\"c\":1}}");
            JsonNode adaJoined = ada.next("joined");
            String adaId = adaJoined.get("self").asText();
            bob.send("{\"type\":\"join\",\"doc\":\"" + doc + "\"}");
            JsonNode bobJoined = bob.next("joined");
            assertEquals(2, bobJoined.get("members").size());
            String bobId = bobJoined.get("self").asText();
            assertEquals(bobId, ada.next("presence").at("/member/id").asText());

            ada.send("{\"type\":\"update\",\"doc\":\"" + doc + "\",\"state\":{\"c\":2}}");
            assertEquals(2, bob.next("presence").at("/member/state/c").asInt());
            ada.send("{\"type\":\"typing\",\"doc\":\"" + doc + "\",\"typing\":true}");
            assertTrue(bob.next("typing").get("typing").asBoolean());
            bob.send("{\"type\":\"broadcast\",\"doc\":\"" + doc + "\",\"data\":\"hi\"}");
            JsonNode broadcast = ada.untilType("broadcast");
            assertEquals("hi", broadcast.get("data").asText());
            bob.send("{\"type\":\"signal\",\"doc\":\"" + doc + "\",\"to\":\"" + adaId + "\",\"data\":\"sdp\"}");
            assertEquals(bobId, ada.untilType("signal").get("from").asText());

            // resume across nodes from the join's offset
            try (WsClient back = b.connect("/ws")) {
                back.send("{\"type\":\"join\",\"doc\":\"" + doc + "\",\"since\":\"" + adaJoined.get("offset").asText() + "\"}");
                assertEquals("join", back.next("presence").get("event").asText());
                assertEquals("hi", back.next("broadcast").get("data").asText());
                assertTrue(back.next("joined").get("resumed").asBoolean());
            }
            bob.closeGracefully();
            JsonNode leave = ada.until(m -> "leave".equals(m.path("event").asText()) && bobId.equals(m.at("/member/id").asText()));
            assertEquals("closed", leave.get("reason").asText());
        }
    }

    static void statusAcrossTwoNodes(ServiceNode a, ServiceNode b, String user) {
        try (WsClient watcher = a.connect("/ws")) {
            watcher.send("{\"type\":\"watch\",\"users\":[\"" + user + "\"]}");
            watcher.next("status");
            try (WsClient online = b.connect("/ws?user=" + user)) {
                assertTrue(watcher.next("status").get("online").asBoolean());
            }
            assertTrue(!watcher.next("status").get("online").asBoolean());
        }
    }
}
