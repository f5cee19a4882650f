package dev.copresence.support;

/** Closes what a test class started, in order, each even if one before it failed to close. */
public final class CloseAll {
    private CloseAll() {
    }

    public static void of(AutoCloseable... started) {
        for (AutoCloseable c : started) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // the next one still closes
            }
        }
    }
}
