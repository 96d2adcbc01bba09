/** migration-store-jdbc (being built; see the open issues). */
package dev.fleet.migration.store.jdbc;
