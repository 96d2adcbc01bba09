/** migration-transport (being built; see the open issues). */
package dev.fleet.migration.transport;
