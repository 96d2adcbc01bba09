package dev.fleet.migration.docker;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where an operation's time went, as facts for operators and the benchmarks: each
 * {@link #lap} records the milliseconds since the previous one (or since construction) under
 * {@code <prefix><name>}, e.g. {@code stop.ms.snapshot}; {@link #span} records a run of laps as
 * one figure. Not thread-safe.
 */
final class Laps {
    private final String prefix;
    private final Map<String, String> facts = new LinkedHashMap<>();
    private final Map<String, Long> ends = new HashMap<>();
    private long last = System.nanoTime();

    Laps(String prefix) {
        this.prefix = prefix;
    }

    void lap(String name) {
        long now = System.nanoTime();
        facts.put(prefix + name, String.valueOf((now - last) / 1_000_000));
        ends.put(name, now);
        last = now;
    }

    /** Records under {@code name} the milliseconds from the end of lap {@code after} to the last lap. */
    void span(String name, String after) {
        facts.put(prefix + name, String.valueOf((last - ends.get(after)) / 1_000_000));
    }

    void addTo(Map<String, String> out) {
        out.putAll(facts);
    }
}
