package dev.fleet.migration.http.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.MigrationIds;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.http.ControlPlane;
import dev.fleet.migration.http.SlowAgent;
import dev.fleet.migration.http.TestFleets;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;

/**
 * The Control Panel in real headless Chromium (Debian's chromium and chromium-driver, driven by
 * Selenium with explicit paths, so Selenium Manager never downloads anything), against a control
 * plane whose FakeFleet nodes take over a second per operation, with the scheduler on.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ControlPanelBrowserIT {
    private static final Path CHROMIUM = BrowserRequirement.CHROMIUM;
    private static final Path CHROMEDRIVER = BrowserRequirement.CHROMEDRIVER;
    private static final Path SHOTS = Path.of("target", "screenshots");
    private static final List<String> STEPS =
            List.of("pending", "snapshotting", "transferring", "restoring", "cutover", "done");

    private FakeFleet fleet;
    private ControlPlane cp;
    private ChromeDriverService service;
    private WebDriver driver;
    private Path profile;
    private int shot;

    @BeforeAll
    void start() throws IOException {
        BrowserRequirement.Decision need = BrowserRequirement.decide(CHROMIUM, CHROMEDRIVER, System.getenv());
        if (need.verdict() != BrowserRequirement.Verdict.RUN) {
            // like every other integration test: a missing prerequisite fails, in CI and out of it
            throw new AssertionError(need.message().orElseThrow());
        }
        fleet = new FakeFleet(Clock.systemUTC(), 5);
        Duration slow = Duration.ofMillis(1500);
        cp = ControlPlane.builder().listen("127.0.0.1", 0).operatorToken(TestFleets.OPERATOR)
                .agentToken(TestFleets.AGENT).store(new InMemoryMigrationStore())
                .node(new SlowAgent(fleet.node("alpha"), slow), "127.0.0.1")
                .node(new SlowAgent(fleet.node("beta"), slow), "127.0.0.1")
                .ids(MigrationIds.sequential("ui"))
                .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ofMillis(200)))
                .start();
        fleet.deploy("alpha", AppRef.container("web"), 8080);
        fleet.deploy("alpha", AppRef.container("shop"), 8081);

        Files.createDirectories(SHOTS);
        profile = Files.createTempDirectory("fleet-chromium-");
        service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                .build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", "--window-size=1400,900", "--user-data-dir=" + profile);
        driver = new ChromeDriver(service, options);
    }

    @AfterAll
    void stop() throws IOException {
        if (driver != null) {
            driver.quit();
        }
        if (service != null) {
            service.stop();
        }
        if (cp != null) {
            cp.close();
        }
        if (profile != null) {
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    @Test
    @Order(1)
    @DisplayName("the page asks for the token once, keeps it in sessionStorage, and refreshes every 5 s by default")
    void asksForTokenOnce() {
        driver.get(cp.url() + "/");
        await("the token form", () -> driver.findElement(By.id("token-panel")).isDisplayed());
        screenshot("token");
        driver.findElement(By.id("token-input")).sendKeys(TestFleets.OPERATOR);
        driver.findElement(By.id("token-save")).click();
        await("the migrations panel", () -> driver.findElement(By.id("panel")).isDisplayed());
        assertThat(js("return sessionStorage.getItem('fleet.operatorToken')")).isEqualTo(TestFleets.OPERATOR);
        assertThat(((Number) js("return window.fleetPanel.refreshMs")).longValue()).isEqualTo(5000);
        driver.navigate().refresh();
        await("the panel without asking again", () -> driver.findElement(By.id("panel")).isDisplayed());
        assertThat(driver.findElement(By.id("token-panel")).isDisplayed()).isFalse();
    }

    @Test
    @Order(2)
    @DisplayName("fill the form, start: the row's six-step bar passes every step to done")
    void startedMigrationReachesDone() {
        driver.get(cp.url() + "/?refresh=300"); // watch closely; the default interval is checked above
        await("the node selects", () -> new Select(driver.findElement(By.id("source-node"))).getOptions().size() == 2);
        driver.findElement(By.id("app-id")).sendKeys("web");
        new Select(driver.findElement(By.id("source-node"))).selectByValue("alpha");
        new Select(driver.findElement(By.id("target-node"))).selectByValue("beta");
        screenshot("form-filled");
        driver.findElement(By.id("start")).click();

        List<String> seen = new ArrayList<>();
        boolean sawBytes = false;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!seen.contains("done")) {
            assertThat(System.nanoTime()).as("the bar reached done within 60 s; saw %s", seen).isLessThan(deadline);
            String state = rowState("web");
            if (state != null && (seen.isEmpty() || !seen.get(seen.size() - 1).equals(state))) {
                seen.add(state);
                screenshot("web-" + state);
            }
            if (!sawBytes && state != null && !state.equals("done")) {
                java.util.Map<String, Object> r = row("web");
                sawBytes = r != null && Boolean.TRUE.equals(r.get("rate"));
            }
            pause();
        }
        assertThat(seen).containsExactlyElementsOf(STEPS);
        assertThat(sawBytes).as("bytes and rate shown on the running step").isTrue();
        java.util.Map<String, Object> row = row("web");
        assertThat(((Number) row.get("done")).intValue()).isEqualTo(6);
        assertThat(row.get("abort")).isEqualTo(false);
        assertThat(fleet.runningOn(AppRef.container("web"))).containsExactly("beta");
    }

    @Test
    @Order(3)
    @DisplayName("start another and press Abort: the row shows failed with its reason")
    void abortedMigrationShowsFailedWithReason() {
        driver.findElement(By.id("app-id")).sendKeys("shop");
        new Select(driver.findElement(By.id("source-node"))).selectByValue("alpha");
        new Select(driver.findElement(By.id("target-node"))).selectByValue("beta");
        driver.findElement(By.id("start")).click();
        await("shop running", () -> {
            String s = rowState("shop");
            return s != null && !s.equals("pending");
        });
        screenshot("shop-running");
        clickAbort("shop");
        await("shop failed", () -> "failed".equals(rowState("shop")));
        java.util.Map<String, Object> row = row("shop");
        assertThat(row.get("reason")).isEqualTo("aborted: operator pressed Abort in the Control Panel");
        assertThat(((Number) row.get("failed")).intValue()).isEqualTo(1);
        assertThat(row.get("abort")).isEqualTo(false);
        screenshot("shop-failed");
        assertThat(fleet.runningOn(AppRef.container("shop"))).containsExactly("alpha");
    }

    // ------------------------------------------------------------------ helpers

    /**
     * One row as the page shows it, read in one script so a redraw between two reads cannot
     * tear it: state, how many steps are done or failed, the reason, whether Abort and a rate show.
     */
    @SuppressWarnings("unchecked")
    private java.util.Map<String, Object> row(String app) {
        return (java.util.Map<String, Object>) js("""
                var rows = document.querySelectorAll('#rows tr');
                for (var i = 0; i < rows.length; i++) {
                  var r = rows[i];
                  if (r.querySelector('.app').textContent !== arguments[0]) continue;
                  var reason = r.querySelector('.reason');
                  return {state: r.getAttribute('data-state'),
                          done: r.querySelectorAll('li.step.done').length,
                          failed: r.querySelectorAll('li.step.failed').length,
                          abort: r.querySelector('button.abort') !== null,
                          rate: r.querySelector('.transfer .rate') !== null,
                          reason: reason ? reason.textContent : null};
                }
                return null;""", app);
    }

    private String rowState(String app) {
        java.util.Map<String, Object> r = row(app);
        return r == null ? null : (String) r.get("state");
    }

    private void clickAbort(String app) {
        js("""
                var rows = document.querySelectorAll('#rows tr');
                for (var i = 0; i < rows.length; i++) {
                  if (rows[i].querySelector('.app').textContent === arguments[0]) {
                    rows[i].querySelector('button.abort').click(); return;
                  }
                }""", app);
    }

    private Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    private void await(String what, Supplier<Boolean> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                if (Boolean.TRUE.equals(condition.get())) {
                    return;
                }
            } catch (org.openqa.selenium.NoSuchElementException
                     | org.openqa.selenium.StaleElementReferenceException e) {
                // not there yet
            }
            if (System.nanoTime() > deadline) {
                screenshot("timeout");
                throw new AssertionError("timed out after 30 s waiting for " + what);
            }
            pause();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100); // between polls of a deadline-bounded wait
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private void screenshot(String name) {
        try {
            File f = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
            Files.copy(f.toPath(), SHOTS.resolve(String.format("%02d-%s.png", ++shot, name)),
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            System.err.println("screenshot " + name + " failed: " + e);
        }
    }
}
