package dev.copresence.protocol;

/**
 * One membership of one connection in one document. Immutable: a change makes a new record, so a
 * member can be handed to other threads and encoded without locking. Which node holds it is the
 * registry's business ({@code Codec.encodeStoredMember}), never a client's.
 */
public record Member(String id, UserRef user, State state, boolean typing, long joinedAt) {

    /** A member without a state has the empty one, so that nothing downstream asks. */
    public Member {
        if (state == null) {
            state = State.EMPTY;
        }
    }

    public Member withState(State newState) {
        return new Member(id, user, newState, typing, joinedAt);
    }

    public Member withTyping(boolean newTyping) {
        return new Member(id, user, state, newTyping, joinedAt);
    }
}
