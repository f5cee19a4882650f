package dev.copresence.support;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;

/**
 * One node of the service as its own OS process: the packaged jar ({@code target/quarkus-app}),
 * configured only through the environment, as an operator would. {@link #kill()} is SIGKILL (no
 * goodbye), {@link #terminate()} is SIGTERM (what Kubernetes sends).
 */
public final class ServiceNode implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Path JAR = Path.of("target", "quarkus-app", "quarkus-run.jar");

    private final int port;
    private final Process process;
    private final Path log;

    private ServiceNode(int port, Process process, Path log) {
        this.port = port;
        this.process = process;
        this.log = log;
    }

    public static ServiceNode start(Map<String, String> env) {
        return start(RedisServer.freePort(), env);
    }

    public static ServiceNode start(int port, Map<String, String> env) {
        String nativeImage = System.getProperty("native.image.path");
        if (nativeImage == null && !Files.exists(JAR)) {
            throw new IllegalStateException(JAR + " is missing: run ./mvnw package (or verify) first");
        }
        try {
            Path log = Files.createTempFile("copresence-node-" + port, ".log");
            String java = ProcessHandle.current().info().command().orElse("java");
            // ./mvnw verify -Pnative: the same black-box tests against the native binary
            List<String> command = nativeImage != null ? new ArrayList<>(List.of(nativeImage, "-Xmx256m"))
                    : new ArrayList<>(List.of(java, "-Xmx256m", "-jar", JAR.toString()));
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().put("QUARKUS_HTTP_PORT", Integer.toString(port));
            builder.environment().putAll(env);
            ServiceNode node = new ServiceNode(port, builder.start(), log);
            node.awaitReady();
            return node;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void awaitReady() {
        Awaitility.await("node on port " + port + " ready").atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("node exited: " + Files.readString(log));
                    }
                    return ready();
                });
    }

    public boolean ready() {
        return status("/q/health/ready") == 200;
    }

    public int status(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(http(path)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    public String get(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(http(path)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public URI http(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    public URI base() {
        return http("/");
    }

    public WsClient connect(String pathAndQuery) {
        return WsClient.connect(URI.create("ws://127.0.0.1:" + port + pathAndQuery));
    }

    public int port() {
        return port;
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    /** SIGKILL: the node vanishes without a word. */
    public void kill() {
        process.destroyForcibly();
        waitFor();
    }

    /** SIGSTOP: the node freezes, as in a long GC pause or a suspended VM, its sockets left open. */
    public void pause() {
        signal("STOP");
    }

    /** SIGCONT: the frozen node runs on, unaware of the time that passed. */
    public void resume() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " failed");
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** SIGTERM: the node drains and exits. */
    public void terminate() {
        process.destroy();
        waitFor();
    }

    private void waitFor() {
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public boolean alive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            waitFor();
        }
    }
}
