package dev.copresence.transport;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;

import dev.copresence.engine.Engine;

/**
 * Ready while the engine's shared backend answers (always, in memory) and the node is not draining;
 * not ready while Redis is away, so that a load balancer sends new clients elsewhere.
 */
@Readiness
@ApplicationScoped
public class ReadinessCheck implements AsyncHealthCheck {
    private final Engine engine;
    private final Drain drain;

    public ReadinessCheck(Engine engine, Drain drain) {
        this.engine = engine;
        this.drain = drain;
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        if (drain.draining()) {
            return Uni.createFrom().item(HealthCheckResponse.named("registry").down().withData("draining", true).build());
        }
        return engine.bus().healthy().map(up -> HealthCheckResponse.named("registry").status(up).build());
    }
}
