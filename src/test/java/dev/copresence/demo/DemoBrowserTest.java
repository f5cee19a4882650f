package dev.copresence.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The demo page in real headless Chromium (Debian's chromium and chromium-driver; nothing is
 * downloaded): two pages on one document see each other's caret, typing and departure.
 */
@QuarkusTest
class DemoBrowserTest {
    private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("CHROMIUM_BIN", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getenv().getOrDefault("CHROMEDRIVER", "/usr/bin/chromedriver"));
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");

    @TestHTTPResource("/")
    URI base;

    private final List<WebDriver> browsers = new ArrayList<>();

    @BeforeEach
    void needsChromium() {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "SKIPPED: the browser test needs Chromium at " + CHROMIUM + " and chromedriver at " + CHROMEDRIVER
                        + " (apt-get install -y chromium chromium-driver; .ci/run installs them)");
    }

    @AfterEach
    void quit() {
        browsers.forEach(WebDriver::quit);
    }

    private WebDriver browser() throws IOException {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,800",
                "--user-data-dir=" + Files.createTempDirectory("chromium-profile"));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        WebDriver driver = new ChromeDriver(service, options);
        browsers.add(driver);
        return driver;
    }

    private static WebDriverWait waiting(WebDriver driver) {
        return new WebDriverWait(driver, Duration.ofSeconds(15));
    }

    private static boolean present(WebDriver driver, String css) {
        return !driver.findElements(By.cssSelector(css)).isEmpty();
    }

    private static Object js(WebDriver driver, String script) {
        return ((JavascriptExecutor) driver).executeScript(script);
    }

    private static void screenshot(WebDriver driver, String name) throws IOException {
        Files.createDirectories(SCREENSHOTS);
        File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void twoPagesSeeEachOthersCaretTypingAndDeparture() throws IOException {
        String doc = "demo-" + Long.toString(System.nanoTime(), 36);
        WebDriver ada = browser();
        WebDriver bob = browser();
        ada.get(base.resolve("/?name=Ada&doc=" + doc).toString());
        bob.get(base.resolve("/?name=Bob&doc=" + doc).toString());

        waiting(bob).until(d -> present(d, "#members li[data-user=ada]"));
        waiting(ada).until(d -> present(d, "#members li[data-user=bob]"));
        waiting(bob).until(d -> present(d, "#online li[data-user=ada] .dot.on"));

        // Ada types: the text reaches Bob, and so does "Ada is typing…", which clears by itself.
        ada.findElement(By.id("text")).sendKeys("Hello, shared world!\nSecond line.");
        waiting(bob).until(d -> d.findElement(By.id("typing")).getText().contains("Ada is typing"));
        waiting(bob).until(d -> "Hello, shared world!\nSecond line.".equals(d.findElement(By.id("text")).getDomProperty("value")));

        // Ada moves her caret, then selects a word: Bob sees both in Ada's colour.
        js(ada, "const t = document.getElementById('text'); t.focus(); t.setSelectionRange(5, 5);"
                + " t.dispatchEvent(new Event('select'));");
        waiting(bob).until(d -> present(d, ".caret[data-user=ada][data-pos='5']"));
        js(ada, "const t = document.getElementById('text'); t.setSelectionRange(7, 13); t.dispatchEvent(new Event('select'));");
        waiting(bob).until(d -> present(d, "mark[data-user=ada]"));
        // found and read in one script: the overlay is redrawn as events arrive, and an element found
        // by one command can be gone by the next (StaleElementReferenceException, seen in CI)
        assertEquals("shared", js(bob, "return document.querySelector('mark[data-user=ada]').textContent"));
        // Bob adds a line at the end: Ada sees his caret there and "Bob is typing…".
        js(bob, "const t = document.getElementById('text'); t.focus(); t.setSelectionRange(t.value.length, t.value.length);");
        bob.findElement(By.id("text")).sendKeys("\nBob was here.");
        String full = "Hello, shared world!\nSecond line.\nBob was here.";
        waiting(ada).until(d -> full.equals(d.findElement(By.id("text")).getDomProperty("value")));
        waiting(ada).until(d -> present(d, ".caret[data-user=bob][data-pos='" + full.length() + "']"));
        waiting(ada).until(d -> d.findElement(By.id("typing")).getText().contains("Bob is typing"));
        assertTrue(present(bob, "mark[data-user=ada]"), "Ada's selection is still shown to Bob");
        screenshot(ada, "demo-ada");
        screenshot(bob, "demo-bob");

        waiting(ada).until(d -> d.findElement(By.id("typing")).getText().isEmpty());

        // Ada closes her page: her member goes from Bob's list, and she goes offline.
        ada.quit();
        browsers.remove(ada);
        waiting(bob).until(d -> !present(d, "#members li[data-user=ada]"));
        waiting(bob).until(d -> !present(d, "#online li[data-user=ada] .dot.on"));
        assertTrue(present(bob, "#members li[data-user=bob]"));
        screenshot(bob, "demo-bob-alone");
    }
}
