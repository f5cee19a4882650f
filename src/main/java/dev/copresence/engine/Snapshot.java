package dev.copresence.engine;

import java.util.List;

import dev.copresence.protocol.Member;

/** The members of a document and the offset of its last durable event, read together. */
public record Snapshot(List<Member> members, String offset) {
}
