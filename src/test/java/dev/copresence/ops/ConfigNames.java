package dev.copresence.ops;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithName;
import io.smallrye.config.WithParentName;

import dev.copresence.config.CopresenceConfig;

/**
 * The configuration properties the service really has, as environment variable names: the
 * {@code copresence.*} ones derived by reflection over {@link CopresenceConfig}, and the Quarkus ones
 * from the configuration model every extension ships ({@code META-INF/quarkus-config-doc}), with
 * the phase in which each is read.
 */
final class ConfigNames {
    private ConfigNames() {
    }

    /** {@code copresence.presence.renew-interval} style names of every leaf of {@link CopresenceConfig}. */
    static Map<String, String> copresenceByEnv() {
        String prefix = CopresenceConfig.class.getAnnotation(ConfigMapping.class).prefix();
        Map<String, String> names = new TreeMap<>();
        collect(CopresenceConfig.class, prefix, names, new HashMap<>());
        return names;
    }

    /** The Java type of one leaf of {@link CopresenceConfig} (an Optional's content; a List stays List). */
    static Class<?> leafType(String property) {
        String prefix = CopresenceConfig.class.getAnnotation(ConfigMapping.class).prefix();
        Map<String, Class<?>> types = new HashMap<>();
        collect(CopresenceConfig.class, prefix, new TreeMap<>(), types);
        return types.getOrDefault(property, Object.class);
    }

    private static void collect(Class<?> group, String path, Map<String, String> names, Map<String, Class<?>> types) {
        for (Method method : group.getMethods()) {
            if (method.getParameterCount() > 0 || method.isDefault() || java.lang.reflect.Modifier.isStatic(method.getModifiers())) {
                continue;
            }
            String name = method.isAnnotationPresent(WithParentName.class) ? null
                    : method.isAnnotationPresent(WithName.class) ? method.getAnnotation(WithName.class).value()
                            : kebab(method.getName());
            String child = name == null ? path : path + "." + name;
            Class<?> nested = groupType(method.getGenericReturnType());
            if (nested != null) {
                collect(nested, child, names, types);
            } else {
                names.put(env(child), child);
                types.put(child, rawLeaf(method.getGenericReturnType()));
            }
        }
    }

    /** The configuration group a method returns (directly or in an Optional), or null for a leaf. */
    private static Class<?> groupType(Type type) {
        if (type instanceof Class<?> c) {
            return c.isInterface() && !c.getName().startsWith("java.") ? c : null;
        }
        if (type instanceof ParameterizedType p && p.getRawType() == Optional.class) {
            return groupType(p.getActualTypeArguments()[0]);
        }
        return null;
    }

    private static Class<?> rawLeaf(Type type) {
        if (type instanceof ParameterizedType p) {
            return p.getRawType() == Optional.class ? rawLeaf(p.getActualTypeArguments()[0]) : (Class<?>) p.getRawType();
        }
        return type instanceof Class<?> c ? c : Object.class;
    }

    static String kebab(String camel) {
        StringBuilder out = new StringBuilder();
        for (char c : camel.toCharArray()) {
            if (Character.isUpperCase(c)) {
                out.append('-').append(Character.toLowerCase(c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** The environment variable of a property, as SmallRye Config maps it. */
    static String env(String property) {
        return property.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    /** Quarkus property phase ({@code RUN_TIME}, {@code BUILD_TIME}, ...) by environment variable name. */
    static Map<String, QuarkusProperty> quarkusByEnv() {
        ObjectMapper json = new ObjectMapper();
        Map<String, QuarkusProperty> byEnv = new HashMap<>();
        try {
            Enumeration<URL> models = Thread.currentThread().getContextClassLoader()
                    .getResources("META-INF/quarkus-config-doc/quarkus-config-model.json");
            for (URL url : Collections.list(models)) {
                try (InputStream in = url.openStream()) {
                    walk(json.readTree(in), byEnv);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return byEnv;
    }

    private static void walk(JsonNode node, Map<String, QuarkusProperty> byEnv) {
        if (node.isObject()) {
            JsonNode path = node.get("path");
            if (path != null && path.isObject() && node.has("phase")) {
                add(path, node.get("phase").asText(), byEnv);
                for (JsonNode additional : node.path("additionalPaths")) {
                    add(additional, node.get("phase").asText(), byEnv);
                }
            }
            node.forEach(child -> walk(child, byEnv));
        } else if (node.isArray()) {
            node.forEach(child -> walk(child, byEnv));
        }
    }

    private static void add(JsonNode path, String phase, Map<String, QuarkusProperty> byEnv) {
        if (path.hasNonNull("environmentVariable") && path.hasNonNull("property")) {
            byEnv.put(path.get("environmentVariable").asText(), new QuarkusProperty(path.get("property").asText(), phase));
        }
    }

    record QuarkusProperty(String name, String phase) {
        boolean readAtRuntime() {
            return phase.equals("RUN_TIME");
        }
    }

    /** src/main/resources/application.properties as written (profiles included). */
    static Properties applicationProperties() {
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(Path.of("src/main/resources/application.properties"), StandardCharsets.UTF_8)) {
            properties.load(in);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return properties;
    }
}
