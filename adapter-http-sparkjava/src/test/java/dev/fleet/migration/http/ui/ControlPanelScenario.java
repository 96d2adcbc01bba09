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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The Control Panel scenario every supported browser must pass, against a control plane whose
 * FakeFleet nodes take over a second per operation, with the scheduler on: the token is asked
 * for once, a started migration's bar passes every step to done, an aborted one shows failed
 * with its reason. A browser proves itself in a subclass that says how to open it; screenshots
 * go to target/screenshots.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class ControlPanelScenario {
    private static final Path SHOTS = Path.of("target", "screenshots");
    private static final List<String> STEPS =
            List.of("pending", "snapshotting", "transferring", "restoring", "cutover", "done");

    private FakeFleet fleet;
    private ControlPlane cp;
    private PanelBrowser browser;
    private int shot;

    /**
     * Checks the browser's prerequisites (failing or skipping the class when they are missing)
     * and opens it in a fresh profile with a 1400 × 900 window. Called before anything else starts.
     */
    abstract PanelBrowser openBrowser() throws IOException;

    /** What this browser's screenshot names start with. */
    abstract String shotPrefix();

    @BeforeAll
    void start() throws IOException {
        browser = openBrowser();
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
    }

    @AfterAll
    void stop() {
        try {
            if (browser != null) {
                browser.close();
            }
        } finally {
            if (cp != null) {
                cp.close();
            }
        }
    }

    @Test
    @Order(1)
    @DisplayName("the page asks for the token once, keeps it in sessionStorage, and refreshes every 5 s by default")
    void asksForTokenOnce() {
        browser.open(cp.url() + "/");
        await("the token form", () -> browser.displayed("token-panel"));
        screenshot("token");
        browser.type("token-input", TestFleets.OPERATOR);
        browser.click("token-save");
        await("the migrations panel", () -> browser.displayed("panel"));
        assertThat(browser.js("return sessionStorage.getItem('fleet.operatorToken')")).isEqualTo(TestFleets.OPERATOR);
        assertThat(((Number) browser.js("return window.fleetPanel.refreshMs")).longValue()).isEqualTo(5000);
        browser.reload();
        await("the panel without asking again", () -> browser.displayed("panel"));
        assertThat(browser.displayed("token-panel")).isFalse();
    }

    @Test
    @Order(2)
    @DisplayName("fill the form, start: the row's six-step bar passes every step to done")
    void startedMigrationReachesDone() {
        browser.open(cp.url() + "/?refresh=300"); // watch closely; the default interval is checked above
        await("the node selects", () -> ((Number) browser.js(
                "return document.getElementById('source-node').options.length")).intValue() == 2);
        browser.type("app-id", "web");
        browser.select("source-node", "alpha");
        browser.select("target-node", "beta");
        screenshot("form-filled");
        recordStates("web");
        browser.click("start");

        List<String> seen = new ArrayList<>();
        boolean sawBytes = false;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!seen.contains("done")) {
            assertThat(System.nanoTime()).as("the bar reached done within 60 s; saw %s", seen).isLessThan(deadline);
            Map<String, Object> r = row("web");
            String state = r == null ? null : (String) r.get("state");
            if (state != null && (seen.isEmpty() || !seen.get(seen.size() - 1).equals(state))) {
                seen.add(state);
                screenshot("web-" + state);
            }
            sawBytes |= state != null && !state.equals("done") && Boolean.TRUE.equals(r.get("rate"));
            pause();
        }
        // each drawing shows the steps before the current one done; pending lasts only until the scheduler's
        // next tick (at most 200 ms), which may come before the page's first refresh after Start
        List<String> drawn = new ArrayList<>();
        for (int i = 0; i < STEPS.size(); i++) {
            drawn.add(STEPS.get(i) + " with " + (i == STEPS.size() - 1 ? STEPS.size() : i) + " steps done");
        }
        assertThat(recordedStates("web")).as("every way the row was drawn")
                .isIn(drawn, drawn.subList(1, drawn.size()));
        assertThat(sawBytes).as("bytes and rate shown on the running step").isTrue();
        Map<String, Object> row = row("web");
        assertThat(((Number) row.get("done")).intValue()).isEqualTo(6);
        assertThat(row.get("abort")).isEqualTo(false);
        assertThat(fleet.runningOn(AppRef.container("web"))).containsExactly("beta");
    }

    @Test
    @Order(3)
    @DisplayName("start another and press Abort: the row shows failed with its reason")
    void abortedMigrationShowsFailedWithReason() {
        browser.type("app-id", "shop");
        browser.select("source-node", "alpha");
        browser.select("target-node", "beta");
        browser.click("start");
        await("shop running", () -> {
            String s = rowState("shop");
            return s != null && !s.equals("pending");
        });
        screenshot("shop-running");
        clickAbort("shop");
        await("shop failed", () -> "failed".equals(rowState("shop")));
        Map<String, Object> row = row("shop");
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
    private Map<String, Object> row(String app) {
        return (Map<String, Object>) browser.js("""
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
        Map<String, Object> r = row(app);
        return r == null ? null : (String) r.get("state");
    }

    /**
     * From now on, records every state the page draws the app's row in, with how many steps its
     * bar shows done, however briefly: a MutationObserver sees each redraw, a poll only samples.
     */
    private void recordStates(String app) {
        browser.js("""
                var app = arguments[0], seen = [];
                window.fleetStates = window.fleetStates || {};
                window.fleetStates[app] = seen;
                new MutationObserver(function () {
                  var rows = document.querySelectorAll('#rows tr');
                  for (var i = 0; i < rows.length; i++) {
                    if (rows[i].querySelector('.app').textContent !== app) continue;
                    var drawn = rows[i].getAttribute('data-state') + ' with '
                        + rows[i].querySelectorAll('li.step.done').length + ' steps done';
                    if (seen[seen.length - 1] !== drawn) seen.push(drawn);
                  }
                }).observe(document.getElementById('rows'), {childList: true, subtree: true});""", app);
    }

    private List<String> recordedStates(String app) {
        return ((List<?>) browser.js("return window.fleetStates[arguments[0]]", app)).stream()
                .map(String::valueOf).toList();
    }

    private void clickAbort(String app) {
        browser.js("""
                var rows = document.querySelectorAll('#rows tr');
                for (var i = 0; i < rows.length; i++) {
                  if (rows[i].querySelector('.app').textContent === arguments[0]) {
                    rows[i].querySelector('button.abort').click(); return;
                  }
                }""", app);
    }

    private void await(String what, Supplier<Boolean> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Boolean.TRUE.equals(condition.get())) {
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
            byte[] png = browser.screenshot();
            Files.write(SHOTS.resolve(String.format("%s%02d-%s.png", shotPrefix(), ++shot, name)), png);
        } catch (IOException | RuntimeException e) {
            System.err.println("screenshot " + name + " failed: " + e);
        }
    }
}
