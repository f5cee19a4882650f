package dev.copresence.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.IOException;
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

    @Test
    void theJavaScriptClientTestsPass() throws IOException, InterruptedException {
        Assumptions.assumeTrue(available("node") && available("npm"),
                "Node.js and npm are not installed: the JavaScript client tests are skipped (.ci/run installs them)");
        assertEquals(0, run(List.of("npm", "ci", "--no-audit", "--no-fund"), 300), "npm ci in src/test/js");
        assertEquals(0, run(List.of("node", "--test", "--test-concurrency=1"), 600), "node --test in src/test/js");
    }

    private static int run(List<String> command, long seconds) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(DIR).inheritIO().start();
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return -1;
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
