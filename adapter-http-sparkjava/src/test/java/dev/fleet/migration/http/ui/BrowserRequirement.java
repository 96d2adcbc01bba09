package dev.fleet.migration.http.ui;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Whether a browser test can run: with its programs present it runs; without them it fails
 * loudly, naming the Debian packages, in CI and out of it, like every other integration test
 * (the SKIP verdict only words the message differently outside CI).
 */
final class BrowserRequirement {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** Firefox is driven over WebDriver BiDi, which it speaks itself: no geckodriver is needed. */
    static final Path FIREFOX = Path.of("/usr/bin/firefox-esr");

    enum Verdict { RUN, FAIL, SKIP }

    record Decision(Verdict verdict, Optional<String> message) {
        /** Returns when the test can run; otherwise fails it with the message: a missing browser is never a skip. */
        void enforce() {
            if (verdict != Verdict.RUN) {
                throw new AssertionError(message.orElseThrow());
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
