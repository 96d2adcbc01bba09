package dev.fleet.migration.core.spi;

import java.util.List;
import java.util.Map;

/**
 * A node's answer to a preflight: the problems that forbid the migration (empty when it may
 * run), the estimated archive size (source only), and facts worth keeping (architecture,
 * the app's port).
 */
public record PreflightReport(List<String> problems, long estimatedBytes, Map<String, String> facts) {
    public PreflightReport {
        problems = List.copyOf(problems);
        facts = Map.copyOf(facts);
    }

    public static PreflightReport ok(long estimatedBytes, Map<String, String> facts) {
        return new PreflightReport(List.of(), estimatedBytes, facts);
    }

    public boolean passed() {
        return problems.isEmpty();
    }
}
