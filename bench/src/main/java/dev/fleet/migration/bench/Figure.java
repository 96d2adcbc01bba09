package dev.fleet.migration.bench;

import java.util.Objects;

/**
 * One measured figure beside its baseline from the same run.
 *
 * @param benchmark which benchmark measured it
 * @param metric    what was measured
 * @param value     the figure
 * @param unit      its unit
 * @param baseline  the baseline's value, in the same unit, or NaN when the target is absolute
 * @param baselineName what the baseline is
 * @param ratio     value / baseline (NaN without a baseline); a benchmark that measures figure and
 *                  baseline in pairs, round after round, may give the median of the per-round
 *                  ratios instead, which cancels most of a shared machine's drift between rounds
 *                  (its metric says so)
 * @param target    the target as a sentence ("≤ 1 ms", "≤ 1.3× baseline")
 * @param met       whether the target is met
 */
public record Figure(String benchmark, String metric, double value, String unit, double baseline, String baselineName,
                     double ratio, String target, boolean met) {
    public Figure {
        Objects.requireNonNull(benchmark, "benchmark");
        Objects.requireNonNull(metric, "metric");
        Objects.requireNonNull(unit, "unit");
        Objects.requireNonNull(baselineName, "baselineName");
        Objects.requireNonNull(target, "target");
    }

    /** A figure whose ratio is value / baseline (NaN without a baseline). */
    public Figure(String benchmark, String metric, double value, String unit, double baseline, String baselineName,
                  String target, boolean met) {
        this(benchmark, metric, value, unit, baseline, baselineName,
                Double.isNaN(baseline) || baseline == 0 ? Double.NaN : value / baseline, target, met);
    }
}
