package dev.fleet.migration.http.ui;

import java.io.IOException;

/**
 * The Control Panel in real headless Firefox (Debian's firefox-esr), driven over WebDriver
 * BiDi, which Firefox speaks itself: there is no geckodriver to install. Without firefox-esr
 * the class fails, in CI and out of it, naming the package.
 */
class ControlPanelFirefoxIT extends ControlPanelScenario {

    @Override
    PanelBrowser openBrowser() throws IOException {
        BrowserRequirement.decideFirefox(BrowserRequirement.FIREFOX, System.getenv()).enforce();
        return FirefoxPanelBrowser.start(BrowserRequirement.FIREFOX);
    }

    @Override
    String shotPrefix() {
        return "firefox-";
    }
}
