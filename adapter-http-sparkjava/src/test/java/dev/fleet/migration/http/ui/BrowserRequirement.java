package dev.fleet.migration.http.ui;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Whether a browser test can run: with its programs present it runs; without them it fails
 * loudly naming the Debian packages when CI=true, and is skipped otherwise.
 */
final class BrowserRequirement {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** Firefox is driven over WebDriver BiDi, which it speaks itself: no geckodriver is needed. */
    static final Path FIREFOX = Path.of("/usr/bin/firefox-esr");

    enum Verdict { RUN, FAIL, SKIP }

    record Decision(Verdict verdict, Optional<String> message) {
        /** Returns when the test can run; otherwise fails it (FAIL) or aborts it as skipped (SKIP). */
        void enforce() {
            switch (verdict) {
                case RUN -> { }
                case FAIL -> throw new AssertionError(message.orElseThrow());
                case SKIP -> Assumptions.abort(message.orElseThrow());
            }
        }
    }

    private BrowserRequirement() {}

    static Decision decide(Path chromium, Path driver, Map<String, String> env) {
        return decide(List.of(chromium, driver), "headless Chromium", List.of("chromium", "chromium-driver"), env);
    }

    static Decision decideFirefox(Path firefox, Map<String, String> env) {
        return decide(List.of(firefox), "headless Firefox", List.of("firefox-esr"), env);
    }

    /**
     * Disables a Firefox test class with the message as its reason when the verdict is SKIP, so
     * it is reported as skipped (an assumption failing in {@code @BeforeAll} is reported as nothing
     * at all); the class itself still calls {@link Decision#enforce()} to fail when CI=true.
     */
    static final class SkipWithoutFirefox implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return condition(decideFirefox(FIREFOX, System.getenv()));
        }

        static ConditionEvaluationResult condition(Decision d) {
            return d.verdict() == Verdict.SKIP ? ConditionEvaluationResult.disabled(d.message().orElseThrow())
                    : ConditionEvaluationResult.enabled(d.message().orElse("the browser is installed"));
        }
    }

    private static Decision decide(List<Path> programs, String what, List<String> packages,
            Map<String, String> env) {
        if (programs.stream().allMatch(Files::isExecutable)) {
            return new Decision(Verdict.RUN, Optional.empty());
        }
        String msg = what + " is missing: install the Debian package" + (packages.size() > 1 ? "s " : " ")
                + String.join(" and ", packages.stream().map(p -> "'" + p + "'").toList())
                + " (" + String.join(" and ", programs.stream().map(Path::toString).toList())
                + "), e.g. with scripts/ci/install-packages.sh";
        return "true".equalsIgnoreCase(env.get("CI")) ? new Decision(Verdict.FAIL, Optional.of(msg))
                : new Decision(Verdict.SKIP, Optional.of(msg + " (skipped because CI is not true)"));
    }
}
