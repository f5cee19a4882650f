package dev.copresence.support;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;

/**
 * A real Redis for tests: a container where a Docker engine answers, else a {@code redis-server}
 * process of this machine on a free loopback port. Never a mock. {@link #restart()} kills it and
 * starts an empty one on the same port, as a Redis without persistence comes back.
 */
public final class RedisServer implements AutoCloseable {
    private final int port;
    private final List<String> extraArgs;
    private final Path dir;
    private Process process;
    private GenericContainer<?> container;

    private RedisServer(int port, List<String> extraArgs) throws IOException {
        this.port = port;
        this.extraArgs = extraArgs;
        this.dir = Files.createTempDirectory("redis-" + port);
    }

    public static RedisServer start(String... extraArgs) {
        try {
            RedisServer server = new RedisServer(freePort(), List.of(extraArgs));
            server.startProcessOrContainer();
            return server;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start redis-server (is it installed? apt-get install -y redis-server)", e);
        }
    }

    private static boolean dockerAvailable() {
        if (Boolean.getBoolean("copresence.test.no-docker") || System.getenv("DOCKER_HOST") == null
                && !Files.exists(Path.of("/var/run/docker.sock"))) {
            return false;
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable t) {
            return false;
        }
    }

    @SuppressWarnings("resource")
    private void startProcessOrContainer() throws IOException {
        if (extraArgs.isEmpty() && dockerAvailable()) {
            container = new GenericContainer<>("redis:7-alpine").withExposedPorts(6379);
            container.setPortBindings(List.of(port + ":6379"));
            container.start();
            return;
        }
        List<String> command = new ArrayList<>(List.of("redis-server"));
        List<String> rest = new ArrayList<>(extraArgs);
        if (!rest.isEmpty() && rest.get(0).endsWith(".conf")) {
            command.add(rest.remove(0)); // a config file (e.g. Sentinel's) must come first
        }
        command.addAll(List.of("--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", dir.toString()));
        command.addAll(rest);
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        awaitListening();
    }

    private void awaitListening() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                if (process != null && !process.isAlive()) {
                    throw new IllegalStateException("redis-server exited; see " + dir.resolve("redis.log"));
                }
                Thread.onSpinWait();
            }
        }
        throw new IllegalStateException("redis-server did not listen on " + port + " within 15 s");
    }

    public int port() {
        return port;
    }

    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** Kills Redis (no goodbye) and starts an empty one on the same port. */
    public void restart() {
        stop();
        try {
            startProcessOrContainer();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Kills Redis without starting it again. */
    public void stop() {
        if (container != null) {
            container.stop();
        }
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Runs a redis-cli command against this server and returns its output. */
    public String cli(String... args) {
        List<String> command = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
        command.addAll(List.of(args));
        try {
            Process cli = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(cli.getInputStream().readAllBytes()).trim();
            cli.waitFor(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS);
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        stop();
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
