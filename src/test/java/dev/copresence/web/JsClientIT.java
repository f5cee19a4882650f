package dev.copresence.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The JavaScript client's own tests ({@code src/test/js}, Node's test runner) against the packaged
 * service they start themselves. Skipped with a message where Node or npm is missing.
 */
class JsClientIT {
    private static final File DIR = new File("src/test/js");
    private static final File LOG = new File("target/js-client-tests.log");

    @Test
    void theJavaScriptClientTestsPass() throws IOException, InterruptedException {
        Assumptions.assumeTrue(available("node") && available("npm"),
                "Node.js and npm are not installed: the JavaScript client tests are skipped (.ci/run installs them)");
        Files.deleteIfExists(LOG.toPath());
        assertEquals(0, run(List.of("npm", "ci", "--no-audit", "--no-fund"), 300), "npm ci in src/test/js (see " + LOG + ")");
        assertEquals(0, run(List.of("node", "--test", "--test-concurrency=1"), 600), "node --test in src/test/js (see " + LOG + ")");
    }

    /**
     * Runs a command with its output in {@code target/js-client-tests.log} (printed on failure) and no
     * stdin: inherited, Node sets the forked JVM's stdin non-blocking, and surefire's reader of it fails
     * with "std/in stream corrupted"; inherited stdout corrupts surefire's channel too.
     */
    private static int run(List<String> command, long seconds) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(DIR).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(LOG)).start();
        process.getOutputStream().close();
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return -1;
        }
        if (process.exitValue() != 0) {
            System.out.println(Files.readString(LOG.toPath()));
        }
        return process.exitValue();
    }

    private static boolean available(String tool) {
        try {
            return new ProcessBuilder(tool, "--version").redirectErrorStream(true).start().waitFor(20, TimeUnit.SECONDS);
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
