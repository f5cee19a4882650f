package dev.copresence.transport;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;

import dev.copresence.engine.Engine;

/** Ready while the engine's shared backend answers (always, in memory); not ready while Redis is away. */
@Readiness
@ApplicationScoped
public class ReadinessCheck implements AsyncHealthCheck {
    private final Engine engine;

    public ReadinessCheck(Engine engine) {
        this.engine = engine;
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        return engine.bus().healthy().map(up -> HealthCheckResponse.named("registry").status(up).build());
    }
}
