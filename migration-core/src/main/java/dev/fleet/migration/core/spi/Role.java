package dev.fleet.migration.core.spi;

/** Which side of a migration a node is on. */
public enum Role {
    SOURCE, TARGET
}
