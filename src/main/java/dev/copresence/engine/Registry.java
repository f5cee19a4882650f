package dev.copresence.engine;

import java.util.List;
import java.util.Map;
import java.util.Set;

import io.smallrye.mutiny.Uni;

import dev.copresence.protocol.Member;

/**
 * Members per document and online status per user. Every change is one atomic step that also logs
 * (durable changes) and publishes the event, so all nodes see one order. Frames arrive pre-encoded:
 * the engine stores and routes text, it never builds protocol messages.
 */
public interface Registry {

    /**
     * Adds the member and appends its {@code presence}/{@code join} ({@code Codec.joinPrefix}). Fails
     * with a {@code ProtocolException(DOC_FULL)} when the document already has {@code maxMembers}.
     */
    Uni<Snapshot> join(String doc, Member member, int maxMembers);

    /** Removes the member and appends its leave; the item is the leave's offset, null if it was gone. */
    Uni<String> leave(String doc, String memberId, String leavePrefix);

    /**
     * A leave whose {@link #leave} failed, tried again: announced unless it was meanwhile (the member
     * reaped, or the first try recorded after all), and announced even if the registry no longer
     * holds the member (it lost its data), so that no reader keeps a member that left. Completes
     * once the registry has answered.
     */
    Uni<Void> leaveAgain(String doc, String memberId, String leavePrefix);

    /**
     * Stores the member's new state and publishes {@code presence}/{@code update} (not logged). The
     * item is false when the registry did not hold the member (it left, or the registry lost it).
     */
    Uni<Boolean> update(String doc, Member member, String frame);

    /** Stores the member's typing flag and publishes the {@code typing} frame (not logged); the item as for {@link #update}. */
    Uni<Boolean> typing(String doc, Member member, String frame);

    /**
     * Keeps this node's members of a document alive for another presence TTL, in one step whatever
     * their number, and reaps members of the document that other nodes stopped renewing. The item
     * lists the given members the registry no longer has (it lost them): put them back with
     * {@link #reassert}.
     */
    Uni<List<String>> renew(String doc, List<String> memberIds);

    /**
     * Puts back members this node holds and the registry lost, without telling anyone, unless their
     * leave was announced meanwhile (then their join is announced again).
     */
    Uni<Void> reassert(String doc, List<Member> members);

    /**
     * Sets this node's count of open connections per user: after the registry may have lost them, or
     * after a write of a user's count failed. A count of 0 takes the node's connections off the user,
     * who goes offline if they were its last.
     *
     * @param restart true when the registry may have lost everything (a resync): a user it has
     *        offline is then announced online only if it had seen the user before; false (after a
     *        failed write) announces it whenever it had the user offline
     */
    Uni<Void> reassertConnections(Map<String, Integer> connectionsPerUser, boolean restart);

    /**
     * Once per renewal interval: this node's lease, and the reaping of nodes whose lease expired.
     *
     * @param localDocs the documents this node serves (members, joins under way, readers): the
     *        ones to reap if it dies
     */
    Uni<Void> heartbeat(Set<String> localDocs);

    /**
     * This node starts serving a document: done before its first local member joins, so that the
     * node's death, even before its next heartbeat, ends that member with a {@code leave}.
     */
    Uni<Void> serving(String doc);

    /** This node leaves the cluster cleanly (its lease goes at once); its members have already left. */
    Uni<Void> goodbye();

    Uni<Snapshot> snapshot(String doc);

    /** One more open connection of the user on this node; announces it online on the first. */
    Uni<Void> connected(String user);

    /** One connection fewer; announces it offline (with lastSeen) when it was the last one anywhere. */
    Uni<Void> disconnected(String user);

    Uni<List<UserStatus>> status(List<String> users);
}
