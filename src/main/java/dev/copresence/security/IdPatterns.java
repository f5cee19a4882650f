package dev.copresence.security;

import java.util.List;

/**
 * The ids a token's claim allows: exact ids, or {@code prefix*} patterns. The documents its user may
 * join ({@code docs}), the users whose status it may watch ({@code watch}); a token without the claim
 * allows any ({@link #ANY}).
 */
public final class IdPatterns {
    public static final IdPatterns ANY = new IdPatterns(null);

    private final List<String> patterns;

    private IdPatterns(List<String> patterns) {
        this.patterns = patterns;
    }

    public static IdPatterns of(List<String> patterns) {
        return patterns == null ? ANY : new IdPatterns(List.copyOf(patterns));
    }

    public boolean allows(String id) {
        if (patterns == null) {
            return true;
        }
        for (String pattern : patterns) {
            if (pattern.endsWith("*") ? id.startsWith(pattern.substring(0, pattern.length() - 1)) : id.equals(pattern)) {
                return true;
            }
        }
        return false;
    }
}
