package dev.copresence.transport;

import jakarta.inject.Singleton;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;

import dev.copresence.flow.Frame;
import dev.copresence.flow.OutboundQueue;
import dev.copresence.protocol.ClientMessage;

/** Counters of what crosses the sockets, published under {@code copresence.*} at {@code /q/metrics}. */
@Singleton
public final class SocketMetrics implements OutboundQueue.Listener {
    private final MeterRegistry registry;
    private final java.util.Map<String, Counter> out = new java.util.concurrent.ConcurrentHashMap<>();
    private final Counter conflated;
    private final Counter slowConsumers;
    private final DistributionSummary queueDepth;

    public SocketMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.conflated = Counter.builder("copresence.outbound.conflated")
                .description("Ephemeral frames replaced in a queue by a newer one").register(registry);
        this.slowConsumers = Counter.builder("copresence.outbound.slow.consumer.closes")
                .description("Connections closed with 1013 because their send buffer was full").register(registry);
        this.queueDepth = DistributionSummary.builder("copresence.outbound.queue.depth")
                .description("Frames waiting in connections' outbound queues, sampled every second")
                .publishPercentiles(0.5, 0.99).register(registry);
    }

    void rejected(String reason) {
        registry.counter("copresence.inbound.rejected", "reason", reason).increment();
    }

    void queueDepth(int depth) {
        queueDepth.record(depth);
    }

    void received(ClientMessage message) {
        registry.counter("copresence.messages.in", "type", typeOf(message)).increment();
    }

    void sent(Frame frame) {
        out.computeIfAbsent(frame.type(), t -> Counter.builder("copresence.messages.out").tag("type", t)
                .description("Frames written to sockets").register(registry)).increment();
    }

    @Override
    public void conflated() {
        conflated.increment();
    }

    @Override
    public void overflowed() {
        slowConsumers.increment();
    }

    private static String typeOf(ClientMessage message) {
        String name = message.getClass().getSimpleName();
        return Character.toLowerCase(name.charAt(0)) + name.substring(1);
    }
}
