/** bench (being built; see the open issues). */
package dev.fleet.migration.bench;
