package dev.fleet.migration.http.ui;

import static org.assertj.core.api.Assertions.assertThat;

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
}
