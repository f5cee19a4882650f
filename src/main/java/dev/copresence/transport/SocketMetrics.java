package dev.copresence.transport;

import jakarta.inject.Singleton;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;

import dev.copresence.flow.Frame;
import dev.copresence.flow.OutboundQueue;
import dev.copresence.protocol.ClientMessage;

/**
 * Counters of what crosses the sockets, published under {@code copresence.*} at {@code /q/metrics}.
 * The per-frame ones are plain adders read at scrape time: a Micrometer counter asks the exemplar
 * sampler (OpenTelemetry's current span) at every increment, which cost more than the rest of a
 * delivery's bookkeeping.
 */
@Singleton
public final class SocketMetrics implements OutboundQueue.Listener {
    private final MeterRegistry registry;
    private final Map<String, LongAdder> out = new ConcurrentHashMap<>();
    private final Map<Class<?>, LongAdder> in = new ConcurrentHashMap<>();
    private final Counter conflated;
    private final Counter slowConsumers;
    private final DistributionSummary queueDepth;
    /** The counter of the type written last (any thread's: a stale one is still the right counter for its type). */
    private volatile Sent lastSent;

    private record Sent(String type, LongAdder count) {
    }

    public SocketMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.conflated = Counter.builder("copresence.outbound.conflated")
                .description("Ephemeral frames replaced in a queue by a newer one").register(registry);
        this.slowConsumers = Counter.builder("copresence.outbound.slow.consumer.closes")
                .description("Connections closed with 1013 because their send buffer was full").register(registry);
        this.queueDepth = DistributionSummary.builder("copresence.outbound.queue.depth")
                .description("Frames waiting in a connection's outbound queue, sampled at each of its pings")
                .publishPercentiles(0.5, 0.99).register(registry);
    }

    void rejected(String reason) {
        registry.counter("copresence.inbound.rejected", "reason", reason).increment();
    }

    void queueDepth(int depth) {
        queueDepth.record(depth);
    }

    void received(ClientMessage message) {
        count(in, message.getClass(), SocketMetrics::typeOf, "copresence.messages.in", "Messages received from clients");
    }

    void sent(Frame frame) {
        // A fan-out writes one frame to every socket: the last type's counter is found without the map.
        String type = frame.type();
        Sent last = lastSent;
        if (last != null && last.type.equals(type)) {
            last.count.increment();
            return;
        }
        LongAdder count = counter(out, type, Function.identity(), "copresence.messages.out", "Frames written to sockets");
        lastSent = new Sent(type, count);
        count.increment();
    }

    private <K> void count(Map<K, LongAdder> counts, K key, Function<K, String> type, String name, String description) {
        counter(counts, key, type, name, description).increment();
    }

    private <K> LongAdder counter(Map<K, LongAdder> counts, K key, Function<K, String> type, String name, String description) {
        LongAdder n = counts.get(key);
        if (n == null) {
            n = counts.computeIfAbsent(key, k -> {
                LongAdder adder = new LongAdder();
                FunctionCounter.builder(name, adder, LongAdder::sum).tag("type", type.apply(k)).description(description)
                        .register(registry);
                return adder;
            });
        }
        return n;
    }

    @Override
    public void conflated() {
        conflated.increment();
    }

    @Override
    public void overflowed() {
        slowConsumers.increment();
    }

    private static String typeOf(Class<?> message) {
        String name = message.getSimpleName();
        return Character.toLowerCase(name.charAt(0)) + name.substring(1);
    }
}
