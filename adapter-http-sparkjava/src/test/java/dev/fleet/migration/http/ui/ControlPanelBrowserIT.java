package dev.fleet.migration.http.ui;

import java.io.IOException;

/**
 * The Control Panel in real headless Chromium (Debian's chromium and chromium-driver, driven by
 * Selenium with explicit paths, so Selenium Manager never downloads anything).
 */
class ControlPanelBrowserIT extends ControlPanelScenario {

    @Override
    PanelBrowser openBrowser() throws IOException {
        // like every other integration test: a missing prerequisite fails, in CI and out of it
        BrowserRequirement.decide(BrowserRequirement.CHROMIUM, BrowserRequirement.CHROMEDRIVER, System.getenv())
                .enforce();
        return ChromiumPanelBrowser.start(BrowserRequirement.CHROMIUM, BrowserRequirement.CHROMEDRIVER);
    }

    @Override
    String shotPrefix() {
        return "";
    }
}
