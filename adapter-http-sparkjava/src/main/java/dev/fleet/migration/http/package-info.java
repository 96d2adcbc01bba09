/** adapter-http-sparkjava (being built; see the open issues). */
package dev.fleet.migration.http;
