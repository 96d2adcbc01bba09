package dev.fleet.migration.core;

/**
 * Told after every successful save, outside any lock; for metrics and logs. Must not throw
 * (a thrown exception is logged and ignored) and should return quickly.
 */
@FunctionalInterface
public interface MigrationListener {
    /** {@code previous} is null for a newly created migration. */
    void onSaved(Migration previous, Migration saved);
}
