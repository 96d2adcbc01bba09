/**
 * The service-provider interfaces the core drives: {@link dev.fleet.migration.core.spi.NodeAgent},
 * {@link dev.fleet.migration.core.spi.Snapshotter}, {@link dev.fleet.migration.core.spi.Transport},
 * {@link dev.fleet.migration.core.spi.ProxyRouter} and
 * {@link dev.fleet.migration.core.spi.MigrationStore}.
 *
 * <p>Implementations live in the other modules and prove themselves against the abstract
 * contract suites in this module's test-jar ({@code dev.fleet.migration.core.contract}).
 * Every method throws only the unchecked {@link dev.fleet.migration.core.MigrationException}
 * family; the orchestrator turns those into the FAILED transition at exactly one seam.
 */
package dev.fleet.migration.core.spi;
