/**
 * Fleet App Migration's pure core: the model, the state machine, the orchestrator that drives
 * it, and the in-memory store. Everything outside this package talks to it through the SPIs in
 * {@link dev.fleet.migration.core.spi}.
 *
 * <p>Nothing here touches a clock, a random source, a socket or a process on its own: time
 * ({@link java.time.Clock}) and ids ({@link dev.fleet.migration.core.MigrationIds}) are injected.
 */
package dev.fleet.migration.core;
