package dev.fleet.migration.core;

import java.time.Duration;

/**
 * How the orchestrator waits a moment between polls while an app is down in cutover. Injected
 * like the clock, so tests move a settable clock instead of sleeping.
 */
@FunctionalInterface
public interface Sleeper {
    Sleeper REAL = d -> Thread.sleep(d.toMillis(), (int) (d.toNanosPart() % 1_000_000));

    void sleep(Duration duration) throws InterruptedException;
}
