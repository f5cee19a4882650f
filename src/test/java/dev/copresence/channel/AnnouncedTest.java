package dev.copresence.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.copresence.engine.DocEvent;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.Member;
import dev.copresence.protocol.ServerMessage;
import dev.copresence.protocol.State;
import dev.copresence.protocol.UserRef;

/** After a gap, a hub passes on the members' changes its readers missed, and only those. */
class AnnouncedTest {
    private static final String DOC = "doc";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Announced announced = new Announced();
    private final List<String> passedOn = new ArrayList<>();

    private static State state(String json) {
        try {
            return State.of((ObjectNode) JSON.readTree(json));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Member member(String id, String stateJson, boolean typing) {
        return new Member(id, new UserRef("u-" + id, null), state(stateJson), typing, 1_000);
    }

    private void joined(Member m, String offset) {
        announced.passedOnDurable(DocEvent.durable(offset, m.id(), false, Codec.withOffset(Codec.joinPrefix(DOC, m), offset)));
    }

    private void left(Member m, String offset) {
        String prefix = Codec.durablePrefix(new ServerMessage.Presence(DOC, "leave", m, "left", null));
        announced.passedOnDurable(DocEvent.durable(offset, m.id(), false, Codec.withOffset(prefix, offset)));
    }

    private void updated(Member m) {
        DocEvent e = new DocEvent(DocEvent.Kind.UPDATE, null, m.id(), null, CommandHandler.updateFrame(DOC, m));
        announced.passedOn(e);
    }

    private void typed(Member m) {
        DocEvent e = new DocEvent(DocEvent.Kind.TYPING, null, m.id(), null, CommandHandler.typingFrame(DOC, m));
        announced.passedOn(e);
    }

    private List<String> missed(Member... now) {
        return missed(announced.noteChanges(), now);
    }

    private List<String> missed(Announced.Noting changed, Member... now) {
        passedOn.clear();
        announced.missed(DOC, List.of(now), changed, e -> passedOn.add(e.frame()));
        return passedOn;
    }

    @Test
    void aMemberAsItWasLastPassedOnIsNotPassedOnAgain() {
        Member ada = member("ada", "{\"color\":\"red\"}", false);
        joined(ada, "1-1");
        Member bob = member("bob", "{}", false);
        joined(bob, "1-2");
        Member bobMoved = bob.withState(state("{\"cursor\":3}"));
        updated(bobMoved);
        assertEquals(List.of(), missed(ada, bobMoved), "both as they were passed on: nothing twice");
        assertEquals(List.of(), missed(ada.withTyping(true).withTyping(false), bobMoved.withTyping(true).withTyping(false)));
    }

    @Test
    void anUpdateAndATypingChangeTheGapLostArePassedOn() {
        Member ada = member("ada", "{}", false);
        joined(ada, "1-1");
        typed(ada.withTyping(true));
        Member now = ada.withState(state("{\"cursor\":7}"));
        assertEquals(List.of(CommandHandler.updateFrame(DOC, now), CommandHandler.typingFrame(DOC, now)), missed(now),
                "its state as it is now, and typing no more");
        assertEquals(List.of(), missed(now), "passed on: not again");
    }

    @Test
    void aTypingFlagAloneSendsATypingChangeNotAnUpdate() {
        Member ada = member("ada", "{\"a\":1}", false);
        joined(ada, "1-1");
        Member typing = ada.withTyping(true);
        assertEquals(List.of(CommandHandler.typingFrame(DOC, typing)), missed(typing));
    }

    @Test
    void aChangePassedOnWhileTheRegistryWasReadIsNewerAndNotOvertaken() {
        Member ada = member("ada", "{}", false);
        joined(ada, "1-1");
        var first = announced.noteChanges();
        var second = announced.noteChanges(); // a second gap's read, under way at once
        Member read = ada.withState(state("{\"cursor\":1}")); // what the registry held when read
        Member live = ada.withState(state("{\"cursor\":2}"));
        updated(live); // came live meanwhile
        assertEquals(List.of(), missed(first, read), "the live update is newer than what was read");
        assertEquals(List.of(), missed(second, read), "and newer than what the second read found");
    }

    @Test
    void aMemberAReaderGotWithItsJoinedIsNotPassedOnAsItWas() {
        Member cy = member("cy", "{\"x\":1}", true);
        announced.shown(DOC, List.of(cy), announced.noteChanges());
        assertEquals(List.of(), missed(cy), "as the joined showed it");
        Member moved = cy.withState(state("{\"x\":2}")).withTyping(false);
        assertEquals(List.of(CommandHandler.updateFrame(DOC, moved), CommandHandler.typingFrame(DOC, moved)), missed(moved));
    }

    @Test
    void theMembersAreReadForAResumedReaderOnlyUntilAReaderWasShownThem() {
        assertTrue(announced.claimFirstRead(), "a hub that showed no reader the members reads them");
        assertFalse(announced.claimFirstRead(), "once: a second resumed reader waits for that read");
        announced.firstReadFailed();
        assertTrue(announced.claimFirstRead(), "a failed read is tried again by the next");
        announced.firstReadFailed();
        announced.shown(DOC, List.of(member("cy", "{}", false)), announced.noteChanges());
        assertFalse(announced.claimFirstRead(), "a joined or members shown counts as that read");
    }

    @Test
    void readsThatNotedNothingEndApartAndEndingOneTwiceEndsNoOther() {
        Member ada = member("ada", "{}", false);
        joined(ada, "1-1");
        var gap = announced.noteChanges(); // a gap's read under way
        var join = announced.noteChanges(); // a joiner's list, read at the same time: both noted nothing yet
        announced.shown(DOC, List.of(ada), join);
        announced.stopNoting(join); // its end, once more
        Member read = ada.withState(state("{\"cursor\":1}"));
        updated(ada.withState(state("{\"cursor\":2}"))); // live, newer than what the gap's read found
        assertEquals(List.of(), missed(gap, read), "the gap's read still noted it");
    }

    @Test
    void aLoneSurrogateInAStateMatchesItsEscapedFormOnTheBus() {
        Member ada = member("ada", "{}", false).withState(state("{\"t\":\"a\\ud83d\"}"));
        String wire = dev.copresence.protocol.Codec.escapeLoneSurrogates(CommandHandler.updateFrame(DOC, ada));
        DocEvent e = new DocEvent(DocEvent.Kind.UPDATE, null, ada.id(), null, wire);
        announced.passedOn(e);
        assertEquals(List.of(), missed(ada), "as the bus carried it: not again");
    }

    @Test
    void aMemberNeverPassedOnNorShownHereIsLeftToItsJoin() {
        Member cy = member("cy", "{\"x\":1}", false);
        assertEquals(List.of(), missed(cy), "its join, on its way, carries it: no update before it");
    }

    @Test
    void aMemberThatLeftWhileAJoinersListWasReadIsNotTakenFromTheList() {
        Member dan = member("dan", "{}", true);
        joined(dan, "1-1");
        var noting = announced.noteChanges();
        left(dan, "1-2"); // after the list was read, before it was shown
        announced.shown(DOC, List.of(dan), noting);
        assertEquals(0, announced.size(), "no entry for a member gone");
    }

    @Test
    void aJoinReannouncedWhileTypingCountsAsShownTyping() {
        Member eve = member("eve", "{}", true); // Redis lost her, her node put her back as she is
        joined(eve, "1-1");
        assertEquals(List.of(), missed(eve), "typing, as her join said");
    }

    @Test
    void aMemberThatLeftLeavesNothingBehind() {
        for (int i = 0; i < 1000; i++) {
            Member m = member("m" + i, "{}", false);
            joined(m, "1-" + (2 * i + 1));
            typed(m.withTyping(true));
            left(m, "1-" + (2 * i + 2));
        }
        assertEquals(0, announced.size(), "entries of members gone");
        Member stays = member("stays", "{}", false);
        joined(stays, "2-1");
        typed(stays.withTyping(true));
        missed(); // the registry holds nobody now
        assertEquals(0, announced.size(), "those the registry no longer holds are forgotten");
    }
}
