package dev.fleet.migration.http.ui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.opentest4j.TestAbortedException;

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
        assertThat(BrowserRequirement.SkipWithoutFirefox.condition(d).isDisabled()).as("runs, to fail").isFalse();
    }

    @Test
    @DisplayName("without firefox-esr outside CI the Firefox test is skipped, with the message as the reason")
    void firefoxSkipsOutsideCi() {
        BrowserRequirement.Decision d = BrowserRequirement.decideFirefox(Path.of("/nonexistent/firefox-esr"),
                Map.of("CI", "false"));
        assertThat(d.verdict()).isEqualTo(BrowserRequirement.Verdict.SKIP);
        assertThatThrownBy(d::enforce).isInstanceOf(TestAbortedException.class)
                .hasMessageContaining("skipped because CI is not true");
        ConditionEvaluationResult c = BrowserRequirement.SkipWithoutFirefox.condition(d);
        assertThat(c.isDisabled()).isTrue();
        assertThat(c.getReason()).contains(d.message().orElseThrow());
    }

    @Test
    @DisplayName("with the program present the test runs")
    void runsWhenPresent() {
        BrowserRequirement.Decision d = BrowserRequirement.decideFirefox(Path.of("/bin/sh"), Map.of("CI", "true"));
        assertThat(d.verdict()).isEqualTo(BrowserRequirement.Verdict.RUN);
        assertThatCode(d::enforce).doesNotThrowAnyException();
    }
}
