package dev.fleet.migration.http.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.http.ListedFleet;
import dev.fleet.migration.http.TestFleets;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The Control Panel over a long history, in real headless Chromium: 1,200 migrations, 240 of
 * them active. Every active one is shown, with the newest 100 finished ones; "Show 100 more"
 * adds the next 100; a quiet refresh leaves the table alone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ControlPanelListingIT {
    private Path dir;
    private ListedFleet fleet;
    private ChromeDriverService service;
    private WebDriver driver;

    @BeforeAll
    void start() throws IOException {
        BrowserRequirement.Decision need = BrowserRequirement.decide(BrowserRequirement.CHROMIUM,
                BrowserRequirement.CHROMEDRIVER, System.getenv());
        if (need.verdict() != BrowserRequirement.Verdict.RUN) {
            throw new AssertionError(need.message().orElseThrow());
        }
        dir = Files.createTempDirectory("fleet-panel-listing-");
        fleet = new ListedFleet(dir, 1200);
        service = new ChromeDriverService.Builder().usingDriverExecutable(BrowserRequirement.CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BrowserRequirement.CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", "--window-size=1400,900",
                "--user-data-dir=" + Files.createDirectories(dir.resolve("profile")));
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
        if (fleet != null) {
            fleet.close();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    @Test
    @DisplayName("every active migration and the newest 100 finished show; Show 100 more adds 100; refreshes redraw nothing")
    void showsAllActiveAndPagesFinished() {
        driver.get(fleet.cp.url() + "/");
        js("sessionStorage.setItem('fleet.operatorToken', arguments[0])", TestFleets.OPERATOR);
        driver.get(fleet.cp.url() + "/?refresh=300");
        await("the first table", () -> js("return window.fleetPanel.firstRowsMs") != null);
        Map<?, ?> t = table();
        assertThat(((Number) t.get("rows")).intValue()).isEqualTo(340);
        assertThat(((Number) t.get("active")).intValue()).isEqualTo(240);
        assertThat(t.get("firstActive")).isEqualTo("app-1195");
        assertThat(t.get("firstFinished")).isEqualTo("app-1199");
        assertThat(driver.findElement(By.id("active-count")).getText()).isEqualTo("240");
        assertThat(driver.findElement(By.id("finished-shown")).getText()).isEqualTo("100");
        assertThat(driver.findElement(By.id("finished-total")).getText()).isEqualTo("960");

        long refreshes = ((Number) js("return window.fleetPanel.refreshes")).longValue();
        long renders = ((Number) js("return window.fleetPanel.renders")).longValue();
        await("two more refreshes", () -> ((Number) js("return window.fleetPanel.refreshes")).longValue()
                >= refreshes + 2);
        assertThat(((Number) js("return window.fleetPanel.renders")).longValue())
                .as("an unchanged table is not rebuilt").isEqualTo(renders);

        driver.findElement(By.id("more")).click();
        await("200 finished rows", () -> ((Number) table().get("rows")).intValue() == 440);
        assertThat(driver.findElement(By.id("finished-shown")).getText()).isEqualTo("200");
    }

    private Map<?, ?> table() {
        return (Map<?, ?>) js("""
                var rows = document.querySelectorAll('#rows tr');
                var active = 0, firstActive = null, firstFinished = null;
                for (var i = 0; i < rows.length; i++) {
                  var app = rows[i].querySelector('.app').textContent;
                  if (rows[i].querySelector('button.abort')) { active++; if (!firstActive) firstActive = app; }
                  else if (!firstFinished) firstFinished = app;
                }
                return {rows: rows.length, active: active, firstActive: firstActive, firstFinished: firstFinished};""");
    }

    private Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    private void await(String what, Supplier<Boolean> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Boolean.TRUE.equals(condition.get())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after 30 s waiting for " + what);
            }
            try {
                Thread.sleep(50); // between polls of a deadline-bounded wait
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }
}
