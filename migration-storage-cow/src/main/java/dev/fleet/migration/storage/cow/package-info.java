/** migration-storage-cow (being built; see the open issues). */
package dev.fleet.migration.storage.cow;
