package dev.fleet.migration.bench;

import java.util.List;

/** A benchmark: measures its figures and their baselines in one run. */
public interface Benchmark {
    String name();

    List<Figure> run() throws Exception;
}
