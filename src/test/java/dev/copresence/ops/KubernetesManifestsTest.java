package dev.copresence.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Field;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBackend;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.quarkus.runtime.configuration.DurationConverter;

import dev.copresence.ops.ConfigNames.QuarkusProperty;
import dev.copresence.transport.Drain;

/**
 * Renders every overlay of k8s/ with {@code kubectl kustomize}, parses the objects with the fabric8
 * Kubernetes model, and checks them against the service itself: probe paths it serves, its HTTP
 * port, configuration properties that exist, a drain that fits in the grace period, and the
 * security settings operations asked for. Plain JUnit: no application start (see
 * {@link ProbePathsTest} for the paths asked of a running instance).
 */
class KubernetesManifestsTest {
    static final String APP = "copresence";
    /** The paths the service serves for probes and scraping (smallrye-health, micrometer). */
    static final Set<String> SERVED_PROBE_PATHS = Set.of("/q/health/live", "/q/health/ready", "/q/health/started");
    static final String METRICS_PATH = "/q/metrics";
    /** Drain steps, each bounded by Drain.LEAVES_DEADLINE: member leaves, node goodbye, closes with 1001. */
    static final int DRAIN_STEPS = 3;
    /** After the drain: the rest of Quarkus shutdown and the JVM (or native process) exit. */
    static final Duration EXIT_MARGIN = Duration.ofSeconds(3);
    /** Variables read by the container images' start scripts, not by the application's configuration. */
    static final Set<String> IMAGE_VARIABLES = Set.of("JAVA_MAX_MEM_RATIO", "JAVA_OPTS_APPEND", "JAVA_APP_JAR");
    /** MicroProfile JWT properties (smallrye-jwt reads these names; they have no Quarkus config model). */
    static final Set<String> MP_JWT_VARIABLES = Set.of("MP_JWT_VERIFY_PUBLICKEY", "MP_JWT_VERIFY_PUBLICKEY_LOCATION",
            "MP_JWT_VERIFY_ISSUER", "MP_JWT_VERIFY_AUDIENCES", "MP_JWT_TOKEN_HEADER", "MP_JWT_TOKEN_COOKIE");

    static List<String> overlays() {
        return Manifests.overlays();
    }

    @BeforeAll
    static void needsKubectl() {
        Assumptions.assumeTrue(Manifests.kubectl().isPresent(),
                "neither kubectl nor kustomize is on PATH: the k8s/ overlays are not rendered or checked here "
                        + "(install kubectl >= 1.27, which bundles kustomize 5, to run these checks)");
    }

    @Test
    void thereAreDevAndProdOverlays() {
        assertTrue(overlays().containsAll(List.of("dev", "prod")), "overlays: " + overlays());
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void rendersEveryObjectTheServiceNeeds(String overlay) {
        List<HasMetadata> objects = Manifests.render(overlay);
        Manifests.one(objects, Deployment.class, APP);
        Manifests.one(objects, Service.class, APP);
        Manifests.one(objects, Ingress.class, APP);
        Manifests.one(objects, HorizontalPodAutoscaler.class, APP);
        Manifests.one(objects, PodDisruptionBudget.class, APP);
        Manifests.one(objects, NetworkPolicy.class, APP);
        Manifests.onePrefixed(objects, ConfigMap.class, APP + "-config");
        GenericKubernetesResource monitor = Manifests.one(objects, GenericKubernetesResource.class, APP);
        assertEquals("ServiceMonitor", monitor.getKind());
        assertEquals("monitoring.coreos.com/v1", monitor.getApiVersion());
        for (HasMetadata object : objects) {
            assertNotNull(object.getMetadata().getNamespace(), overlay + ": " + describe(object) + " has no namespace");
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void noFieldIsUnknownToTheKubernetesModel(String overlay) {
        // fabric8 keeps fields it does not know in additionalProperties instead of failing: a typo
        // (readinesProbe, terminationGracePeriod) would pass everything else and be dropped by the API.
        List<String> unknown = new ArrayList<>();
        for (HasMetadata object : Manifests.render(overlay)) {
            if (!(object instanceof GenericKubernetesResource)) {
                unknownFields(object, describe(object), unknown, 0);
            }
        }
        assertTrue(unknown.isEmpty(), overlay + ": fields the Kubernetes API does not have:\n  " + String.join("\n  ", unknown));
    }

    private static void unknownFields(Object node, String path, List<String> unknown, int depth) {
        if (node == null || depth > 30) {
            return;
        }
        if (node instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                unknownFields(list.get(i), path + "[" + i + "]", unknown, depth + 1);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            map.forEach((k, v) -> unknownFields(v, path + "." + k, unknown, depth + 1));
            return;
        }
        if (!node.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (java.lang.reflect.Method getter : node.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || !getter.getName().startsWith("get") || getter.getDeclaringClass() == Object.class) {
                continue;
            }
            Object value;
            try {
                value = getter.invoke(node);
            } catch (ReflectiveOperationException e) {
                continue;
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    unknown.add(path + ": " + extra.keySet());
                }
            } else {
                unknownFields(value, path + "." + getter.getName().substring(3), unknown, depth + 1);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void probesHitPathsTheServiceServesOnItsPort(String overlay) {
        Container container = container(overlay);
        Map<String, Probe> probes = new LinkedHashMap<>();
        probes.put("/q/health/started", container.getStartupProbe());
        probes.put("/q/health/ready", container.getReadinessProbe());
        probes.put("/q/health/live", container.getLivenessProbe());
        for (Map.Entry<String, Probe> expected : probes.entrySet()) {
            Probe probe = expected.getValue();
            assertNotNull(probe, overlay + ": no probe for " + expected.getKey());
            HTTPGetAction get = probe.getHttpGet();
            assertNotNull(get, overlay + ": probe for " + expected.getKey() + " is not an HTTP GET");
            assertEquals(expected.getKey(), get.getPath(), overlay + ": probe path");
            assertTrue(SERVED_PROBE_PATHS.contains(get.getPath()), get.getPath() + " is not served");
            assertEquals(httpPort(), containerPort(container, get.getPort()), overlay + ": probe port of " + get.getPath());
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void portsAreTheServicesHttpPortEverywhere(String overlay) {
        List<HasMetadata> objects = Manifests.render(overlay);
        Container container = container(overlay);
        int port = httpPort();
        ContainerPort http = container.getPorts().stream().filter(p -> "http".equals(p.getName())).findFirst()
                .orElseThrow(() -> new AssertionError(overlay + ": no container port named http"));
        assertEquals(port, http.getContainerPort(), overlay + ": container port vs quarkus.http.port");
        String configured = environment(overlay).get("QUARKUS_HTTP_PORT");
        if (configured != null) {
            assertEquals(Integer.toString(port), configured, overlay + ": QUARKUS_HTTP_PORT vs the container port");
        }

        Service service = Manifests.one(objects, Service.class, APP);
        for (ServicePort servicePort : service.getSpec().getPorts()) {
            assertEquals(port, containerPort(container, servicePort.getTargetPort()), overlay + ": Service targetPort");
        }
        Set<String> servicePortNames = service.getSpec().getPorts().stream().map(ServicePort::getName).collect(Collectors.toSet());

        Ingress ingress = Manifests.one(objects, Ingress.class, APP);
        ingress.getSpec().getRules().forEach(rule -> rule.getHttp().getPaths().forEach(path -> {
            IngressBackend backend = path.getBackend();
            assertEquals(APP, backend.getService().getName(), overlay + ": Ingress backend");
            String name = backend.getService().getPort().getName();
            Integer number = backend.getService().getPort().getNumber();
            assertTrue(name != null ? servicePortNames.contains(name)
                    : service.getSpec().getPorts().stream().anyMatch(p -> Objects.equals(p.getPort(), number)),
                    overlay + ": Ingress backend port is not a Service port");
        }));

        GenericKubernetesResource monitor = Manifests.one(objects, GenericKubernetesResource.class, APP);
        List<Map<String, Object>> endpoints = monitor.get("spec", "endpoints");
        assertFalse(endpoints.isEmpty(), overlay + ": ServiceMonitor has no endpoints");
        for (Map<String, Object> endpoint : endpoints) {
            assertTrue(servicePortNames.contains(endpoint.get("port")), overlay + ": ServiceMonitor port " + endpoint.get("port"));
            assertEquals(METRICS_PATH, endpoint.get("path"), overlay + ": ServiceMonitor path");
        }
        Map<String, Object> monitorLabels = monitor.get("spec", "selector", "matchLabels");
        assertTrue(service.getMetadata().getLabels().entrySet().containsAll(monitorLabels.entrySet()),
                overlay + ": ServiceMonitor selector " + monitorLabels + " does not select the Service");
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void everyEnvironmentVariableIsARealConfigurationProperty(String overlay) {
        Map<String, String> copresence = ConfigNames.copresenceByEnv();
        Map<String, QuarkusProperty> quarkus = ConfigNames.quarkusByEnv();
        assertTrue(quarkus.containsKey("QUARKUS_HTTP_PORT") && quarkus.containsKey("QUARKUS_REDIS_HOSTS"),
                "the Quarkus configuration model was not found on the test class path");
        List<String> problems = new ArrayList<>();
        for (String name : new TreeSet<>(environment(overlay).keySet())) {
            if (name.startsWith("COPRESENCE_")) {
                if (!copresence.containsKey(name)) {
                    problems.add(name + " is no property of CopresenceConfig (known: " + copresence.keySet() + ")");
                }
            } else if (name.startsWith("QUARKUS_")) {
                QuarkusProperty property = quarkus.get(name);
                if (property == null) {
                    problems.add(name + " is no Quarkus configuration property of this application");
                } else if (!property.readAtRuntime()) {
                    problems.add(name + " (" + property.name() + ") is fixed at build time (" + property.phase()
                            + "): setting it on a pod does nothing");
                }
            } else if (!MP_JWT_VARIABLES.contains(name) && !IMAGE_VARIABLES.contains(name)) {
                problems.add(name + " is neither a configuration property nor a variable of the container image");
            }
        }
        assertTrue(problems.isEmpty(), overlay + ":\n  " + String.join("\n  ", problems));
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void everySettingHasAValueOfTheRightType(String overlay) {
        Map<String, String> env = environment(overlay);
        Map<String, String> copresence = ConfigNames.copresenceByEnv();
        for (Map.Entry<String, String> e : env.entrySet()) {
            String property = copresence.get(e.getKey());
            if (property == null || e.getValue() == null) {
                continue;
            }
            Class<?> type = ConfigNames.leafType(property);
            try {
                if (type == Duration.class) {
                    DurationConverter.parseDuration(e.getValue());
                } else if (type == int.class || type == Integer.class) {
                    Integer.parseInt(e.getValue());
                } else if (type.isEnum()) {
                    boolean known = false;
                    for (Object constant : type.getEnumConstants()) {
                        known |= constant.toString().equals(e.getValue());
                    }
                    assertTrue(known, overlay + ": " + e.getKey() + "=" + e.getValue() + " is not one of "
                            + List.of(type.getEnumConstants()));
                }
            } catch (RuntimeException bad) {
                fail(overlay + ": " + e.getKey() + "=" + e.getValue() + " is not a " + type.getSimpleName() + ": " + bad);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void secretsAndConfigMapsReferencedExist(String overlay) {
        List<HasMetadata> objects = Manifests.render(overlay);
        Container container = container(overlay);
        Set<String> configMaps = Manifests.all(objects, ConfigMap.class).stream().map(c -> c.getMetadata().getName())
                .collect(Collectors.toSet());
        for (EnvFromSource from : container.getEnvFrom()) {
            if (from.getConfigMapRef() != null) {
                assertTrue(configMaps.contains(from.getConfigMapRef().getName()),
                        overlay + ": envFrom names ConfigMap " + from.getConfigMapRef().getName() + ", rendered " + configMaps);
            }
        }
        List<Secret> secrets = Manifests.all(objects, Secret.class);
        for (EnvVar var : container.getEnv()) {
            if (var.getValueFrom() != null && var.getValueFrom().getSecretKeyRef() != null) {
                var ref = var.getValueFrom().getSecretKeyRef();
                assertEquals(var.getName(), ref.getKey(), overlay + ": secret key and variable share a name");
                secrets.stream().filter(s -> s.getMetadata().getName().equals(ref.getName())).forEach(s -> {
                    Set<String> keys = new TreeSet<>();
                    if (s.getData() != null) {
                        keys.addAll(s.getData().keySet());
                    }
                    if (s.getStringData() != null) {
                        keys.addAll(s.getStringData().keySet());
                    }
                    assertTrue(keys.contains(ref.getKey()), overlay + ": Secret " + ref.getName() + " lacks " + ref.getKey());
                });
            }
        }
        Set<String> secretEnv = container.getEnv().stream()
                .filter(v -> v.getValueFrom() != null && v.getValueFrom().getSecretKeyRef() != null)
                .map(EnvVar::getName).collect(Collectors.toSet());
        assertEquals(Set.of("MP_JWT_VERIFY_PUBLICKEY", "COPRESENCE_AUTH_API_KEY"), secretEnv,
                overlay + ": the JWT key and the API key come from the Secret");
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void theDrainFitsInTheGracePeriod(String overlay) throws Exception {
        Deployment deployment = Manifests.one(Manifests.render(overlay), Deployment.class, APP);
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        Container container = container(overlay);
        assertNotNull(container.getLifecycle(), overlay + ": no preStop pause");
        var preStop = container.getLifecycle().getPreStop();
        assertNotNull(preStop, overlay + ": no preStop pause");
        assertNotNull(preStop.getSleep(), overlay + ": the preStop pause is a sleep action (no shell in the images)");
        long preStopSeconds = preStop.getSleep().getSeconds();
        assertTrue(preStopSeconds >= 2, overlay + ": a preStop pause of " + preStopSeconds
                + " s is too short for endpoint removal to reach the proxies");

        Properties app = ConfigNames.applicationProperties();
        Map<String, String> env = environment(overlay);
        assertEquals("true", env.getOrDefault("QUARKUS_SHUTDOWN_DELAY_ENABLED", app.getProperty("quarkus.shutdown.delay-enabled")),
                "the drain runs in the shutdown delay: quarkus.shutdown.delay-enabled must be true");
        Duration delay = DurationConverter.parseDuration(env.getOrDefault("QUARKUS_SHUTDOWN_DELAY",
                Objects.requireNonNull(app.getProperty("quarkus.shutdown.delay"), "quarkus.shutdown.delay")));
        Field deadline = Drain.class.getDeclaredField("LEAVES_DEADLINE");
        deadline.setAccessible(true);
        Duration drain = ((Duration) deadline.get(null)).multipliedBy(DRAIN_STEPS);

        Duration needed = Duration.ofSeconds(preStopSeconds).plus(delay).plus(drain).plus(EXIT_MARGIN);
        long grace = pod.getTerminationGracePeriodSeconds();
        assertTrue(Duration.ofSeconds(grace).compareTo(needed) >= 0, overlay + ": terminationGracePeriodSeconds " + grace
                + " s < preStop " + preStopSeconds + " s + shutdown delay " + delay.toMillis() + " ms + drain " + drain.toSeconds()
                + " s + exit " + EXIT_MARGIN.toSeconds() + " s");
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void everyPodRunsLockedDown(String overlay) {
        for (Deployment deployment : Manifests.all(Manifests.render(overlay), Deployment.class)) {
            String where = overlay + "/" + deployment.getMetadata().getName();
            PodSpec pod = deployment.getSpec().getTemplate().getSpec();
            PodSecurityContext podSecurity = pod.getSecurityContext();
            assertNotNull(podSecurity, where + ": no pod securityContext");
            assertEquals(Boolean.TRUE, podSecurity.getRunAsNonRoot(), where + ": runAsNonRoot");
            assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken(), where + ": the pods need no API token");
            Map<String, Volume> volumes = pod.getVolumes().stream().collect(Collectors.toMap(Volume::getName, v -> v));
            for (Container container : pod.getContainers()) {
                SecurityContext security = container.getSecurityContext();
                assertNotNull(security, where + ": no container securityContext");
                assertEquals(Boolean.FALSE, security.getAllowPrivilegeEscalation(), where + ": allowPrivilegeEscalation");
                assertEquals(Boolean.TRUE, security.getReadOnlyRootFilesystem(), where + ": readOnlyRootFilesystem");
                assertNotEquals(Boolean.TRUE, security.getPrivileged(), where + ": privileged");
                assertNotNull(security.getCapabilities(), where + ": capabilities");
                assertEquals(List.of("ALL"), security.getCapabilities().getDrop(), where + ": capabilities drop ALL");
                assertTrue(security.getCapabilities().getAdd() == null || security.getCapabilities().getAdd().isEmpty(),
                        where + ": no capability added");
                assertNotNull(container.getResources().getRequests(), where + ": resource requests");
                assertNotNull(container.getResources().getLimits(), where + ": resource limits");
                Quantity request = container.getResources().getRequests().get("memory");
                Quantity limit = container.getResources().getLimits().get("memory");
                assertNotNull(request, where + ": memory request");
                assertNotNull(limit, where + ": memory limit");
                assertTrue(request.getNumericalAmount().compareTo(limit.getNumericalAmount()) <= 0, where + ": request > limit");
                for (VolumeMount mount : container.getVolumeMounts()) {
                    Volume volume = volumes.get(mount.getName());
                    assertNotNull(volume, where + ": mount of a missing volume " + mount.getName());
                    assertNotNull(volume.getEmptyDir(), where + ": writable mounts are emptyDirs only");
                }
            }
        }
        Container app = container(overlay);
        assertTrue(app.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals("/tmp")),
                overlay + ": the service needs a writable /tmp (Vert.x file cache)");
    }

    /** One request path of each route clients use (transport/, the REST resources). */
    static final List<String> PUBLIC_ROUTES = List.of("/ws", "/ws/documents/doc-1", "/sse/status", "/sse/documents/doc-1",
            "/poll/documents/doc-1", "/api/status", "/api/documents/doc-1/members", "/api/documents/doc-1/broadcast");

    @ParameterizedTest
    @MethodSource("overlays")
    void theIngressServesEveryClientRouteAndFileButNotTheQuarkusEndpoints(String overlay) throws Exception {
        Ingress ingress = Manifests.one(Manifests.render(overlay), Ingress.class, APP);
        List<String> publicPaths = new ArrayList<>(PUBLIC_ROUTES);
        publicPaths.add("/");
        try (var files = java.nio.file.Files.list(java.nio.file.Path.of("src/main/resources/META-INF/resources"))) {
            files.forEach(file -> publicPaths.add("/" + file.getFileName()));
        }
        publicPaths.addAll(servedPrefixes());
        for (String path : publicPaths) {
            assertTrue(routed(ingress, path), overlay + ": the Ingress does not route " + path);
        }
        for (String path : List.of(METRICS_PATH, "/q/health/ready", "/q/", "/q", "/metrics")) {
            assertFalse(routed(ingress, path), overlay + ": the Ingress routes " + path + " to the public");
        }
    }

    /**
     * The first path element of every route the sources declare (WebSocket endpoints, Vert.x routes,
     * JAX-RS resources), so that a route added under a new prefix fails here until the Ingress has it.
     */
    static Set<String> servedPrefixes() throws java.io.IOException {
        java.util.regex.Pattern declared = java.util.regex.Pattern.compile(
                "@WebSocket\\(path = \"(/[^/\"]*)|router\\.\\w+\\(\"(/[^/\"]*)|@Path\\(\"(/[^/\"]*)[^\"]*\"\\)\\s*(?:@[\\w.]+(?:\\([^)]*\\))?\\s*)*public (?:final )?class");
        Set<String> prefixes = new TreeSet<>();
        try (var files = java.nio.file.Files.walk(java.nio.file.Path.of("src/main/java"))) {
            for (java.nio.file.Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                java.util.regex.Matcher m = declared.matcher(java.nio.file.Files.readString(file));
                while (m.find()) {
                    prefixes.add(m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3));
                }
            }
        }
        assertTrue(prefixes.containsAll(Set.of("/ws", "/sse", "/poll", "/api")), "routes found in the sources: " + prefixes);
        return prefixes;
    }

    /** Kubernetes Ingress matching: Exact is the whole path, Prefix matches whole path elements. */
    static boolean routed(Ingress ingress, String path) {
        return ingress.getSpec().getRules().stream().flatMap(rule -> rule.getHttp().getPaths().stream()).anyMatch(rule -> {
            String p = rule.getPath();
            return switch (rule.getPathType()) {
                case "Exact" -> p.equals(path);
                case "Prefix" -> p.equals("/") || path.equals(p.replaceAll("/$", ""))
                        || path.startsWith(p.endsWith("/") ? p : p + "/");
                default -> true;
            };
        }) || ingress.getSpec().getDefaultBackend() != null;
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void anyPodServesAnyClient(String overlay) {
        List<HasMetadata> objects = Manifests.render(overlay);
        Service service = Manifests.one(objects, Service.class, APP);
        assertTrue(service.getSpec().getSessionAffinity() == null || "None".equals(service.getSpec().getSessionAffinity()),
                overlay + ": no session affinity");
        Ingress ingress = Manifests.one(objects, Ingress.class, APP);
        Map<String, String> annotations = ingress.getMetadata().getAnnotations();
        assertTrue(annotations.keySet().stream().noneMatch(k -> k.contains("affinity") || k.contains("session-cookie")),
                overlay + ": no sticky sessions on the Ingress: " + annotations.keySet());
        Duration ping = DurationConverter.parseDuration(environment(overlay).getOrDefault("COPRESENCE_PING_INTERVAL", "15s"));
        for (String timeout : List.of("nginx.ingress.kubernetes.io/proxy-read-timeout", "nginx.ingress.kubernetes.io/proxy-send-timeout")) {
            assertNotNull(annotations.get(timeout), overlay + ": " + timeout + " (nginx closes a WebSocket after 60 s by default)");
            long seconds = Long.parseLong(annotations.get(timeout));
            assertTrue(seconds >= 4 * ping.toSeconds() && seconds >= 300, overlay + ": " + timeout + " " + seconds + " s is too short");
        }
    }

    @ParameterizedTest
    @MethodSource("overlays")
    void selectorsAndPoliciesMatchThePods(String overlay) {
        List<HasMetadata> objects = Manifests.render(overlay);
        Deployment deployment = Manifests.one(objects, Deployment.class, APP);
        Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
        assertSelects(overlay + ": Deployment", deployment.getSpec().getSelector().getMatchLabels(), podLabels);
        assertSelects(overlay + ": Service", Manifests.one(objects, Service.class, APP).getSpec().getSelector(), podLabels);
        assertSelects(overlay + ": PodDisruptionBudget",
                Manifests.one(objects, PodDisruptionBudget.class, APP).getSpec().getSelector().getMatchLabels(), podLabels);
        NetworkPolicy policy = Manifests.one(objects, NetworkPolicy.class, APP);
        assertSelects(overlay + ": NetworkPolicy", policy.getSpec().getPodSelector().getMatchLabels(), podLabels);

        HorizontalPodAutoscaler hpa = Manifests.one(objects, HorizontalPodAutoscaler.class, APP);
        assertEquals("Deployment", hpa.getSpec().getScaleTargetRef().getKind());
        assertEquals(APP, hpa.getSpec().getScaleTargetRef().getName());
        assertTrue(hpa.getSpec().getMinReplicas() <= hpa.getSpec().getMaxReplicas(), overlay + ": HPA min > max");

        // Ingress: only the HTTP port, from anywhere (the ingress controller, Prometheus).
        assertTrue(policy.getSpec().getPolicyTypes().containsAll(List.of("Ingress", "Egress")), overlay + ": policy types");
        Container container = container(overlay);
        policy.getSpec().getIngress().forEach(rule -> {
            assertFalse(rule.getPorts() == null || rule.getPorts().isEmpty(), overlay + ": an ingress rule open to every port");
            rule.getPorts().forEach(p -> assertEquals(httpPort(), containerPort(container, p.getPort()),
                    overlay + ": ingress allowed to a port other than HTTP"));
        });
        // Egress: DNS, and every port of the configured Redis hosts.
        Set<String> egress = new TreeSet<>();
        policy.getSpec().getEgress().forEach(rule -> {
            assertFalse(rule.getPorts() == null || rule.getPorts().isEmpty(), overlay + ": an egress rule open to every port");
            for (NetworkPolicyPort p : rule.getPorts()) {
                egress.add(p.getProtocol() + "/" + p.getPort().getIntVal());
            }
        });
        assertTrue(egress.containsAll(Set.of("UDP/53", "TCP/53")), overlay + ": DNS egress, have " + egress);
        String hosts = environment(overlay).get("QUARKUS_REDIS_HOSTS");
        assertNotNull(hosts, overlay + ": QUARKUS_REDIS_HOSTS (without it each pod is an island)");
        for (String host : hosts.split(",")) {
            URI uri = URI.create(host.trim());
            int port = uri.getPort() < 0 ? 6379 : uri.getPort();
            assertTrue(egress.contains("TCP/" + port), overlay + ": egress to Redis " + host + ", have " + egress);
        }
    }

    @Test
    void devRunsOneRedisAndTheServiceFindsIt() {
        Assumptions.assumeTrue(overlays().contains("dev"));
        List<HasMetadata> objects = Manifests.render("dev");
        Deployment redis = Manifests.one(objects, Deployment.class, "redis");
        assertEquals(1, redis.getSpec().getReplicas());
        Service service = Manifests.one(objects, Service.class, "redis");
        assertSelects("dev: redis Service", service.getSpec().getSelector(), redis.getSpec().getTemplate().getMetadata().getLabels());
        URI hosts = URI.create(environment("dev").get("QUARKUS_REDIS_HOSTS"));
        assertEquals("redis", hosts.getHost());
        assertTrue(service.getSpec().getPorts().stream().anyMatch(p -> p.getPort() == hosts.getPort()), "dev: Redis port");
        assertEquals("standalone", environment("dev").get("QUARKUS_REDIS_CLIENT_TYPE"));
    }

    @Test
    void prodRunsTheNativeImageOnAHighlyAvailableRedis() {
        Assumptions.assumeTrue(overlays().contains("prod"));
        Map<String, String> env = environment("prod");
        assertTrue(Set.of("sentinel", "cluster").contains(env.get("QUARKUS_REDIS_CLIENT_TYPE")), "prod: Redis Sentinel or Cluster");
        assertTrue(container("prod").getImage().contains("native"), "prod: the native image");
        assertEquals("jwt", env.get("COPRESENCE_AUTH_MODE"), "prod: JWT auth");
        assertFalse("*".equals(env.get("COPRESENCE_ALLOWED_ORIGINS")), "prod: an origin allow-list");
        assertTrue(Manifests.all(Manifests.render("prod"), Secret.class).isEmpty(),
                "prod must not render the placeholder Secret over the real one");
        container("prod").getEnv().stream().filter(v -> v.getValueFrom() != null)
                .forEach(v -> assertEquals(Boolean.FALSE, v.getValueFrom().getSecretKeyRef().getOptional(),
                        "prod: " + v.getName() + " is required"));
    }

    // ---------------------------------------------------------------------------------------------

    static Container container(String overlay) {
        Deployment deployment = Manifests.one(Manifests.render(overlay), Deployment.class, APP);
        List<Container> containers = deployment.getSpec().getTemplate().getSpec().getContainers();
        return containers.stream().filter(c -> c.getName().equals(APP)).findFirst()
                .orElseThrow(() -> new AssertionError(overlay + ": no container named " + APP));
    }

    /** Every variable the service container gets: its ConfigMap(s) through envFrom, then env. */
    static Map<String, String> environment(String overlay) {
        List<HasMetadata> objects = Manifests.render(overlay);
        Container container = container(overlay);
        Map<String, String> env = new HashMap<>();
        for (EnvFromSource from : container.getEnvFrom()) {
            if (from.getConfigMapRef() != null) {
                ConfigMap map = Manifests.one(objects, ConfigMap.class, from.getConfigMapRef().getName());
                env.putAll(map.getData());
            }
        }
        for (EnvVar var : container.getEnv()) {
            env.put(var.getName(), var.getValue());
        }
        return env;
    }

    static int httpPort() {
        return Integer.parseInt(ConfigNames.applicationProperties().getProperty("quarkus.http.port", "8080"));
    }

    static int containerPort(Container container, IntOrString port) {
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return container.getPorts().stream().filter(p -> port.getStrVal().equals(p.getName())).findFirst()
                .map(ContainerPort::getContainerPort)
                .orElseThrow(() -> new AssertionError("no container port named " + port.getStrVal()));
    }

    static void assertSelects(String what, Map<String, String> selector, Map<String, String> labels) {
        assertNotNull(selector, what + ": no selector");
        assertFalse(selector.isEmpty(), what + ": empty selector");
        assertTrue(labels.entrySet().containsAll(selector.entrySet()), what + ": selector " + selector + " misses pod labels " + labels);
    }

    static void assertNotEquals(Object unexpected, Object actual, String message) {
        org.junit.jupiter.api.Assertions.assertNotEquals(unexpected, actual, message);
    }

    static String describe(HasMetadata object) {
        return object.getKind() + "/" + object.getMetadata().getName();
    }
}
