package dev.copresence.support;

import java.lang.ref.WeakReference;
import java.time.Duration;

import org.awaitility.Awaitility;

/** Proof that nothing keeps an object any more: the collector, asked repeatedly, clears its weak reference. */
public final class Collected {
    private Collected() {
    }

    /** Fails when the referent is still reachable after 20 s of collections (one every 200 ms). */
    public static void await(WeakReference<?> reference) {
        Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() -> {
            System.gc();
            return reference.get() == null;
        });
    }
}
