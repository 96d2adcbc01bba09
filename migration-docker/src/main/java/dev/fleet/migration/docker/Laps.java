package dev.fleet.migration.docker;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where an operation's time went, as facts for operators and the benchmarks: each
 * {@link #lap} records the milliseconds since the previous one (or since construction) under
 * {@code <prefix><name>}, e.g. {@code stop.ms.snapshot}. Not thread-safe.
 */
final class Laps {
    private final String prefix;
    private final Map<String, String> facts = new LinkedHashMap<>();
    private long last = System.nanoTime();

    Laps(String prefix) {
        this.prefix = prefix;
    }

    void lap(String name) {
        long now = System.nanoTime();
        facts.put(prefix + name, String.valueOf((now - last) / 1_000_000));
        last = now;
    }

    void addTo(Map<String, String> out) {
        out.putAll(facts);
    }
}
