package dev.copresence.protocol;

/** Who a member is: {@code {"id","name"}}. The name may be null. */
public record UserRef(String id, String name) {
}
