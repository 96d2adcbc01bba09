package dev.fleet.migration.core;

/** A migration's id: lower-case letters, digits and dashes, at most 64 characters. */
public record MigrationId(String value) implements Comparable<MigrationId> {
    public MigrationId {
        Names.require("migrationId", value, Names.MIGRATION_ID, 64);
    }

    public static MigrationId of(String value) {
        return new MigrationId(value);
    }

    /** The first 12 characters, as used in names like {@code web.migrated-<short id>}. */
    public String shortId() {
        String plain = value.startsWith("m-") ? value.substring(2) : value;
        return plain.length() <= 12 ? plain : plain.substring(0, 12);
    }

    @Override
    public int compareTo(MigrationId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
