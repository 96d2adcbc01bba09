package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.Progress;

/**
 * The one callback type for long work (snapshot, transfer, restore). Called from the worker's
 * thread, at most a few times a second; must return quickly and not throw.
 */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = p -> {};

    void onProgress(Progress progress);
}
