package dev.copresence.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.copresence.config.CopresenceConfig;

/**
 * Native-image readiness without GraalVM: a second Maven build of this project, in a copy under a
 * temporary directory (so it never touches target/ of the build running the tests), with
 * {@code -Dquarkus.native.enabled=true -Dquarkus.native.sources-only=true}. Quarkus then writes what
 * it would hand to native-image (target/native-sources: the runner jar with
 * META-INF/native-image/*-config.json, and native-image.args), and this test reads it: the Lua
 * scripts are in the image and in its resource configuration, our configuration mapping and
 * endpoints are registered, and nothing of ours that needs reflection is missing.
 *
 * <p>Offline ({@code -o}): it needs exactly the artifacts of the build that runs it. About 45 s.
 * Skipped with {@code -Dcopresence.native-sources.skip=true}, and when a real native binary is
 * being tested ({@code -Pnative} sets native.image.path).
 */
class NativeSourcesIT {
    static final Path PROJECT = Path.of("").toAbsolutePath();
    static Path copy;
    static Path sources;

    @BeforeAll
    static void buildNativeSources() throws Exception {
        Assumptions.assumeFalse(Boolean.getBoolean("copresence.native-sources.skip"), "copresence.native-sources.skip=true");
        Assumptions.assumeTrue(System.getProperty("native.image.path") == null,
                "a native binary is under test (-Pnative): the sources-only check is redundant");
        copy = Files.createTempDirectory("copresence-native-sources");
        for (String part : List.of("pom.xml", "mvnw", ".mvn", "src/main")) {
            copyTree(PROJECT.resolve(part), copy.resolve(part));
        }
        copy.resolve("mvnw").toFile().setExecutable(true);

        List<String> command = new ArrayList<>();
        String mavenHome = System.getProperty("maven.home");
        Path mvn = mavenHome == null ? null : Path.of(mavenHome, "bin", isWindows() ? "mvn.cmd" : "mvn");
        if (mvn != null && Files.isExecutable(mvn)) {
            command.add(mvn.toString());
        } else {
            command.add(copy.resolve(isWindows() ? "mvnw.cmd" : "mvnw").toString());
        }
        command.addAll(List.of("-B", "-o", "package", "-Dmaven.test.skip=true", "-Dquarkus.native.enabled=true",
                "-Dquarkus.native.sources-only=true", "-Dquarkus.package.jar.enabled=false"));
        String repo = System.getProperty("maven.repo.local");
        if (repo != null) {
            command.add("-Dmaven.repo.local=" + repo);
        }
        Path log = copy.resolve("build.log");
        Process build = new ProcessBuilder(command).directory(copy.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!build.waitFor(5, TimeUnit.MINUTES)) {
            build.destroyForcibly();
            throw new AssertionError("the native-sources build took over 5 minutes; log: " + log);
        }
        assertEquals(0, build.exitValue(), () -> "the native-sources build failed (" + String.join(" ", command) + "):\n"
                + tail(log, 60));
        sources = copy.resolve("target").resolve("native-sources");
        assertTrue(Files.isDirectory(sources), "no " + sources);
    }

    /** The copy and its build (about 100 MB) go, unless -Dcopresence.native-sources.keep=true. */
    @AfterAll
    static void removeTheCopy() throws IOException {
        if (copy == null || Boolean.getBoolean("copresence.native-sources.keep")) {
            return;
        }
        try (Stream<Path> paths = Files.walk(copy)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    @Test
    void theArgumentsBuildAStandaloneImageOfTheRunnerJar() throws IOException {
        String args = Files.readString(sources.resolve("native-image.args"));
        assertTrue(args.contains("--no-fallback"), "no JVM fallback image: a missing registration must fail the build");
        assertTrue(args.strip().endsWith("-jar " + runnerJar().getFileName()), args);
    }

    @Test
    void theLuaScriptsAreInTheImage() throws IOException {
        Path scripts = PROJECT.resolve("src/main/resources/redis");
        List<Path> lua;
        try (Stream<Path> files = Files.list(scripts)) {
            lua = files.filter(f -> f.toString().endsWith(".lua")).sorted().toList();
        }
        assertFalse(lua.isEmpty(), "no Lua scripts under " + scripts);
        List<Pattern> includes = new ArrayList<>();
        for (JsonNode include : config("resource-config.json").path("resources").path("includes")) {
            includes.add(Pattern.compile(include.get("pattern").asText()));
        }
        try (JarFile jar = new JarFile(runnerJar().toFile())) {
            for (Path script : lua) {
                String resource = "redis/" + script.getFileName();
                assertTrue(includes.stream().anyMatch(p -> p.matcher(resource).matches()),
                        resource + " matches no resource include of the native image: " + includes);
                ZipEntry entry = jar.getEntry(resource);
                assertNotNull(entry, resource + " is not in the runner jar");
                try (InputStream in = jar.getInputStream(entry)) {
                    assertArrayEquals(Files.readAllBytes(script), in.readAllBytes(), resource + " differs in the image");
                }
            }
        }
    }

    @Test
    void whatOurCodeNeedsReflectivelyIsRegistered() throws IOException {
        Set<String> reflective = new TreeSet<>();
        for (JsonNode entry : config("reflect-config.json")) {
            reflective.add(entry.get("name").asText());
        }
        // Configuration mapping: Quarkus registers the generated implementation of every group.
        List<String> missing = new ArrayList<>();
        for (Class<?> group : groups(CopresenceConfig.class, new ArrayList<>())) {
            if (!reflective.contains(group.getName() + "$$CMImpl")) {
                missing.add(group.getName() + "$$CMImpl");
            }
        }
        // Classes we ask to register (none today: ReflectionFreeCodeTest keeps it that way unless justified).
        try (Stream<Path> files = Files.walk(PROJECT.resolve("target/classes/dev/copresence"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String bytes = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                if (bytes.contains("Lio/quarkus/runtime/annotations/RegisterForReflection;")) {
                    String name = PROJECT.resolve("target/classes").relativize(file).toString()
                            .replace(File.separatorChar, '.').replaceAll("\\.class$", "");
                    if (!reflective.contains(name)) {
                        missing.add(name + " (@RegisterForReflection)");
                    }
                }
            }
        }
        assertTrue(missing.isEmpty(), "not in reflect-config.json: " + missing);
        // The WebSocket endpoints are generated and registered by websockets-next.
        assertTrue(reflective.stream().anyMatch(n -> n.startsWith("dev.copresence.transport.") && n.endsWith("_WebSocketServerEndpoint")),
                "no WebSocket endpoint of ours in reflect-config.json");
    }

    @Test
    void noDynamicProxiesOrSerializationOfOurs() throws IOException {
        assertFalse(config("proxy-config.json").toString().contains("dev.copresence"), "a dynamic proxy of our interfaces");
        assertFalse(config("serialization-config.json").toString().contains("dev.copresence"), "Java serialization of our classes");
    }

    // ---------------------------------------------------------------------------------------------

    static List<Class<?>> groups(Class<?> group, List<Class<?>> into) {
        into.add(group);
        for (Class<?> nested : group.getDeclaredClasses()) {
            if (nested.isInterface()) {
                groups(nested, into);
            }
        }
        return into;
    }

    static Path runnerJar() throws IOException {
        try (Stream<Path> files = Files.list(sources)) {
            return files.filter(f -> f.getFileName().toString().endsWith("-runner.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("no runner jar in " + sources));
        }
    }

    static JsonNode config(String name) throws IOException {
        try (JarFile jar = new JarFile(runnerJar().toFile())) {
            ZipEntry entry = jar.getEntry("META-INF/native-image/" + name);
            assertNotNull(entry, "no META-INF/native-image/" + name + " in the runner jar");
            try (InputStream in = jar.getInputStream(entry)) {
                return new ObjectMapper().readTree(in);
            }
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        if (!Files.exists(from)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path path : paths.toList()) {
                Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(path, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    static boolean isWindows() {
        return System.getProperty("os.name", "").toLowerCase().contains("win");
    }

    static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
