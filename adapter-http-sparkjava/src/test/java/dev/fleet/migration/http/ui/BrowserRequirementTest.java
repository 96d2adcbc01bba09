package dev.fleet.migration.http.ui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class BrowserRequirementTest {
    private final Path missing = Path.of("/nonexistent/chromium");

    @Test
    @DisplayName("without chromium and with CI=true the browser test fails, naming both packages")
    void failsLoudlyOnCi() {
        BrowserRequirement.Decision d = BrowserRequirement.decide(missing, missing, Map.of("CI", "true"));
        assertThat(d.verdict()).isEqualTo(BrowserRequirement.Verdict.FAIL);
        assertThat(d.message().orElseThrow()).contains("'chromium'").contains("'chromium-driver'");
    }

    @Test
    @DisplayName("without chromium outside CI the browser test is skipped with the same message")
    void skipsOutsideCi() {
        assertThat(BrowserRequirement.decide(missing, missing, Map.of()).verdict())
                .isEqualTo(BrowserRequirement.Verdict.SKIP);
    }

    @Test
    @DisplayName("without firefox-esr and with CI=true the Firefox test fails, naming the package and the path")
    void firefoxFailsLoudlyOnCi() {
        BrowserRequirement.Decision d = BrowserRequirement.decideFirefox(Path.of("/nonexistent/firefox-esr"),
                Map.of("CI", "true"));
        assertThat(d.verdict()).isEqualTo(BrowserRequirement.Verdict.FAIL);
        assertThat(d.message().orElseThrow()).contains("package 'firefox-esr'").contains("/nonexistent/firefox-esr");
        assertThatThrownBy(d::enforce).isInstanceOf(AssertionError.class).hasMessage(d.message().orElseThrow());
    }

    @Test
    @DisplayName("without firefox-esr outside CI the Firefox test fails too: a missing browser is never a skip")
    void firefoxFailsOutsideCiToo() {
        BrowserRequirement.Decision d = BrowserRequirement.decideFirefox(Path.of("/nonexistent/firefox-esr"),
                Map.of("CI", "false"));
        assertThatThrownBy(d::enforce).isInstanceOf(AssertionError.class)
                .hasMessageContaining("package 'firefox-esr'");
    }

    @Test
    @DisplayName("with the program present the test runs")
    void runsWhenPresent() {
        BrowserRequirement.Decision d = BrowserRequirement.decideFirefox(Path.of("/bin/sh"), Map.of("CI", "true"));
        assertThat(d.verdict()).isEqualTo(BrowserRequirement.Verdict.RUN);
        assertThatCode(d::enforce).doesNotThrowAnyException();
    }
}
