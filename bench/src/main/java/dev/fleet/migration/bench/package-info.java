/**
 * Benchmarks. Each {@link dev.fleet.migration.bench.Benchmark} measures its figures together with
 * a baseline in the same run (these machines are shared and noisy, so only ratios compare), and
 * {@link dev.fleet.migration.bench.BenchMain} prints one table and writes it as Markdown and JSON.
 */
package dev.fleet.migration.bench;
