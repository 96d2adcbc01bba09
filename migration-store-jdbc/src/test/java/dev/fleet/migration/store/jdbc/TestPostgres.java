package dev.fleet.migration.store.jdbc;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The PostgreSQL server scripts/ci/services/postgres.sh starts, for tests: each test gets a
 * schema of its own in the one database, so it starts empty and nothing is dropped by hand.
 */
public final class TestPostgres {
    private TestPostgres() {}

    static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new AssertionError("environment variable " + name + " is not set: run the integration tests "
                    + "through scripts/test.sh (it starts PostgreSQL with scripts/ci/services/postgres.sh), or run "
                    + "`bash scripts/ci/services/postgres.sh up DIR && source DIR/postgres.env`");
        }
        return v;
    }

    /** A URL whose connections work in a new, empty schema. */
    public static String freshSchemaUrl() {
        String schema = "t_" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36);
        try (Connection c = DriverManager.getConnection(env("FLEET_TEST_PG_URL"), env("FLEET_TEST_PG_USER"),
                env("FLEET_TEST_PG_PASSWORD")); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        } catch (SQLException e) {
            throw new AssertionError("cannot reach the test PostgreSQL at " + env("FLEET_TEST_PG_URL") + ": " + e, e);
        }
        return env("FLEET_TEST_PG_URL") + "?currentSchema=" + schema;
    }

    /** A store in a new, empty schema. */
    public static PostgresMigrationStore freshStore() {
        return PostgresMigrationStore.builder(freshSchemaUrl()).user(env("FLEET_TEST_PG_USER"))
                .password(env("FLEET_TEST_PG_PASSWORD")).open();
    }
}
