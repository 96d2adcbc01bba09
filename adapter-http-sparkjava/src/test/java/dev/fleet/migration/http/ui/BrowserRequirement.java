package dev.fleet.migration.http.ui;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Whether the browser test can run: with chromium and chromedriver present it runs; without
 * them it fails loudly naming the Debian packages when CI=true, and is skipped otherwise.
 */
final class BrowserRequirement {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    enum Verdict { RUN, FAIL, SKIP }

    record Decision(Verdict verdict, Optional<String> message) {}

    private BrowserRequirement() {}

    static Decision decide(Path chromium, Path driver, Map<String, String> env) {
        if (Files.isExecutable(chromium) && Files.isExecutable(driver)) {
            return new Decision(Verdict.RUN, Optional.empty());
        }
        String msg = "headless Chromium is missing: install the Debian packages 'chromium' and 'chromium-driver'"
                + " (" + chromium + " and " + driver + "), e.g. with scripts/ci/install-packages.sh";
        return "true".equalsIgnoreCase(env.get("CI")) ? new Decision(Verdict.FAIL, Optional.of(msg))
                : new Decision(Verdict.SKIP, Optional.of(msg + " (skipped because CI is not true)"));
    }
}
