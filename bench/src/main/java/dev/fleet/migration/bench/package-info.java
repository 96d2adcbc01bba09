/**
 * Benchmarks. Each {@link dev.fleet.migration.bench.Benchmark} measures its figures together with
 * a baseline in the same run (these machines are shared and noisy, so only ratios compare) and
 * names the services from {@code scripts/ci/services/} it needs;
 * {@link dev.fleet.migration.bench.BenchMain} runs them, prints one table and writes it as
 * Markdown and JSON. {@code bash bench/run.sh [NAME...]} builds, starts those services, runs, and
 * stops them again.
 */
package dev.fleet.migration.bench;
