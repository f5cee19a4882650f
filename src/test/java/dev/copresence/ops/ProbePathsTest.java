package dev.copresence.ops;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Probe;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The paths the manifests probe and scrape, asked of a running instance (the in-memory default, so
 * it shares the application with the other plain {@code @QuarkusTest}s): each answers 200. Where
 * kubectl renders the overlays, the paths are read from the rendered objects; otherwise from the
 * list {@link KubernetesManifestsTest} holds the manifests to.
 */
@QuarkusTest
class ProbePathsTest {

    @Test
    void everyProbedPathAnswers() {
        for (String path : probedPaths()) {
            given().when().get(path).then().statusCode(200);
        }
    }

    @Test
    void theScrapedPathServesPrometheusText() {
        for (String path : scrapedPaths()) {
            given().when().get(path).then().statusCode(200).body(containsString("jvm_memory_used_bytes"));
        }
    }

    static Set<String> probedPaths() {
        Set<String> paths = new LinkedHashSet<>(KubernetesManifestsTest.SERVED_PROBE_PATHS);
        if (Manifests.kubectl().isPresent()) {
            for (String overlay : Manifests.overlays()) {
                Container container = KubernetesManifestsTest.container(overlay);
                for (Probe probe : List.of(container.getStartupProbe(), container.getReadinessProbe(), container.getLivenessProbe())) {
                    paths.add(probe.getHttpGet().getPath());
                }
            }
        }
        return paths;
    }

    static Set<String> scrapedPaths() {
        Set<String> paths = new LinkedHashSet<>(List.of(KubernetesManifestsTest.METRICS_PATH));
        if (Manifests.kubectl().isPresent()) {
            for (String overlay : Manifests.overlays()) {
                GenericKubernetesResource monitor = Manifests.one(Manifests.render(overlay), GenericKubernetesResource.class,
                        KubernetesManifestsTest.APP);
                List<Map<String, Object>> endpoints = monitor.get("spec", "endpoints");
                endpoints.forEach(e -> paths.add((String) e.get("path")));
            }
        }
        return paths;
    }
}
