/**
 * Programs that embed the library, each run by the module's tests:
 * {@link dev.fleet.migration.examples.EmbeddedMigration} (two Docker engines, one migration,
 * in-process, no HTTP) and {@link dev.fleet.migration.examples.JsonFileProxyRouter} (a custom
 * {@link dev.fleet.migration.core.spi.ProxyRouter} that passes the router contract).
 */
package dev.fleet.migration.examples;
