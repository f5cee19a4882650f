package dev.copresence.security;

import java.util.List;

/**
 * The documents a token lets its user join: exact ids, or {@code prefix*} patterns. A token without
 * the {@code docs} claim may join any document ({@link #ANY}).
 */
public final class DocumentAccess {
    public static final DocumentAccess ANY = new DocumentAccess(null);

    private final List<String> patterns;

    private DocumentAccess(List<String> patterns) {
        this.patterns = patterns;
    }

    public static DocumentAccess of(List<String> patterns) {
        return patterns == null ? ANY : new DocumentAccess(List.copyOf(patterns));
    }

    public boolean allows(String doc) {
        if (patterns == null) {
            return true;
        }
        for (String pattern : patterns) {
            if (pattern.endsWith("*") ? doc.startsWith(pattern.substring(0, pattern.length() - 1)) : doc.equals(pattern)) {
                return true;
            }
        }
        return false;
    }
}
