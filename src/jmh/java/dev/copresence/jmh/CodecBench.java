package dev.copresence.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.copresence.protocol.ClientMessage;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.Member;
import dev.copresence.protocol.ServerMessage;
import dev.copresence.protocol.UserRef;

/** The codec on the hot paths: every client frame is decoded, every event encoded once per node. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBench {
    static final String UPDATE = "{\"type\":\"update\",\"doc\":\"notes-42\",\"state\":{\"cursor\":{\"x\":120,\"y\":48},\"sel\":[3,9]}}";
    static final String BROADCAST = "{\"type\":\"broadcast\",\"doc\":\"notes-42\",\"data\":{\"bt\":123456789012345,\"bk\":1,\"bs\":42}}";

    ServerMessage.Presence presenceUpdate;
    ServerMessage.Broadcast broadcast;

    @Setup
    public void setup() {
        ObjectNode state = (ObjectNode) Codec.readTreeOrNull("{\"cursor\":{\"x\":120,\"y\":48},\"sel\":[3,9]}");
        Member member = new Member("m-1ux76l3b4ydhs", new UserRef("ada", "Ada"),
                dev.copresence.protocol.State.of(state), false, 1795315542067L);
        presenceUpdate = new ServerMessage.Presence("notes-42", "update", member, null, null);
        JsonNode data = Codec.readTreeOrNull("{\"bt\":123456789012345,\"bk\":1,\"bs\":42}");
        broadcast = new ServerMessage.Broadcast("notes-42", "m-1ux76l3b4ydhs", data, null);
    }

    @Benchmark
    public ClientMessage decodeUpdate() {
        return Codec.decode(UPDATE);
    }

    @Benchmark
    public ClientMessage decodeBroadcast() {
        return Codec.decode(BROADCAST);
    }

    @Benchmark
    public String encodePresenceUpdate() {
        return Codec.encode(presenceUpdate);
    }

    /** A durable event: the prefix is encoded once, the log appends the offset. */
    @Benchmark
    public String encodeBroadcastDurable() {
        return Codec.withOffset(Codec.durablePrefix(broadcast), "1795315542067-17");
    }
}
