package dev.copresence.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.net.URI;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

import dev.copresence.support.WsClient;

/**
 * The members of a document on a node keep one string of its id between them, not one each (each
 * join decodes its own): at thousands of idle members that is part of what a connection costs.
 */
@QuarkusTest
class MembersShareTheirDocumentIdTest {
    @TestHTTPResource("/")
    URI base;

    @Inject
    Hubs hubs;

    @Test
    void membersJoinedSeparatelyHoldTheHubsIdString() {
        try (WsClient ada = WsClient.connect(WsClient.ws(base, "/ws"));
                WsClient bob = WsClient.connect(WsClient.ws(base, "/ws"))) {
            ada.send("{\"type\":\"join\",\"doc\":\"shared-id-1\"}");
            ada.next("joined");
            bob.send("{\"type\":\"join\",\"doc\":\"shared-id-1\"}");
            bob.next("joined");

            DocumentHub hub = hubs.hubOf("shared-id-1");
            assertEquals(2, hub.members.size(), "both members are here");
            for (LocalMember member : hub.members.values()) {
                assertSame(hub.doc, member.doc, "the member keeps the hub's string");
                assertSame(hub.doc, member.session.memberships().keySet().iterator().next(),
                        "and so does its session's membership");
            }
        }
    }
}
