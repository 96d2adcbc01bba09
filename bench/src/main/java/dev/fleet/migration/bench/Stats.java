package dev.fleet.migration.bench;

import java.util.Arrays;

/** Percentiles over a set of samples (nanoseconds in, milliseconds out). */
final class Stats {
    private final long[] sorted;

    Stats(long[] samples, int count) {
        this.sorted = Arrays.copyOf(samples, count);
        Arrays.sort(sorted);
    }

    double percentileMillis(double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    double totalSeconds() {
        long sum = 0;
        for (long s : sorted) {
            sum += s;
        }
        return sum / 1e9;
    }

    int count() {
        return sorted.length;
    }
}
