package dev.fleet.migration.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationEvent;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.StateMachine;
import dev.fleet.migration.core.MigrationQuery;
import dev.fleet.migration.core.MigrationState;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The listing on SQLite: its queries answer from an index (EXPLAIN QUERY PLAN for each filter
 * names the index it walks, never a scan of the table's rows), and the records it keeps decoded
 * never hide a save made by another process sharing the file.
 */
class SqliteListingTest {
    @TempDir
    Path dir;

    private String plan(Connection c, String sql, List<String> args) throws SQLException {
        List<String> lines = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("EXPLAIN QUERY PLAN " + sql)) {
            int i = 1;
            for (String a : args) {
                ps.setString(i++, a);
            }
            if (sql.contains("LIMIT ?")) {
                ps.setInt(i++, 100);
                ps.setInt(i, 0);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    lines.add(rs.getString("detail"));
                }
            }
        }
        return String.join("\n", lines);
    }

    /** The page and count statements of a query, as the store builds them, with their plans. */
    private List<String> plans(Connection c, MigrationQuery q) throws SQLException {
        List<String> args = new ArrayList<>();
        String page = JdbcMigrationStore.pageSql(q, args, Dialect.SQLITE);
        List<String> countArgs = new ArrayList<>();
        String count = JdbcMigrationStore.countSql(q, countArgs);
        return List.of(plan(c, page, args), plan(c, count, countArgs));
    }

    @Test
    @DisplayName("every filter's page and count use an index; single-filter pages need no sort")
    void everyListingQueryUsesAnIndex() throws Exception {
        Path file = dir.resolve("m.db");
        SqliteMigrationStore.open(file).close(); // the schema, with every step
        MigrationQuery all = MigrationQuery.firstPage();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
            record Case(String name, MigrationQuery q, String index, boolean ordered) {}
            List<Case> cases = List.of(
                    new Case("every migration", all, "SCAN migrations USING COVERING INDEX migrations_newest", true),
                    new Case("state=active", all.withStates(MigrationQuery.ACTIVE),
                            "SCAN migrations USING COVERING INDEX migrations_active_newest", true),
                    new Case("state=failed", all.withStates(Set.of(MigrationState.FAILED)),
                            "SEARCH migrations USING COVERING INDEX migrations_by_state_newest (state=?)", true),
                    // two states: the matching index entries (not the rows) are sorted
                    new Case("state=terminal", all.withStates(MigrationQuery.TERMINAL),
                            "SEARCH migrations USING COVERING INDEX migrations_by_state_newest (state=?)", false),
                    // one app's few entries are sorted
                    new Case("app=web", all.withApp(AppRef.parse("web")),
                            "SEARCH migrations USING COVERING INDEX migrations_by_app_state_newest (app=?)", false),
                    new Case("app=web&state=failed", all.withApp(AppRef.parse("web"))
                            .withStates(Set.of(MigrationState.FAILED)),
                            "SEARCH migrations USING COVERING INDEX migrations_by_app_state_newest (app=? AND state=?)",
                            true));
            for (Case k : cases) {
                List<String> p = plans(c, k.q());
                String page = p.get(0);
                String count = p.get(1);
                System.out.println(k.name() + ":\n  page:  " + page.replace("\n", "\n         ")
                        + "\n  count: " + count.replace("\n", "\n         "));
                assertThat(page).as("page plan of %s", k.name()).startsWith(k.index())
                        .doesNotContainPattern("SCAN migrations(\\n|$)");
                assertThat(count).as("count plan of %s", k.name()).contains("COVERING INDEX");
                if (k.ordered()) {
                    assertThat(page).as("page plan of %s sorts nothing", k.name()).doesNotContain("TEMP B-TREE");
                }
            }
        }
    }

    @Test
    @DisplayName("a page read again after another store instance saved shows the new version, not the kept one")
    void keptRecordsNeverHideAnotherWritersSave() {
        Path file = dir.resolve("shared.db");
        try (SqliteMigrationStore reader = SqliteMigrationStore.open(file);
             SqliteMigrationStore writer = SqliteMigrationStore.open(file)) {
            Migration m = Migration.create(MigrationId.of("m-1"), AppRef.parse("web"), NodeId.of("a"), NodeId.of("b"),
                    1, Instant.parse("2026-01-01T00:00:00Z"));
            writer.insert(m);
            assertThat(reader.page(MigrationQuery.firstPage()).migrations()).containsExactly(m);
            Migration next = StateMachine.apply(m, new MigrationEvent.Advanced(Map.of()),
                    Clock.fixed(Instant.parse("2026-01-01T00:00:01Z"), ZoneOffset.UTC)).get();
            writer.update(next);
            assertThat(reader.page(MigrationQuery.firstPage()).migrations()).containsExactly(next);
            assertThat(reader.page(MigrationQuery.firstPage().withStates(MigrationQuery.ACTIVE)).migrations())
                    .extracting(Migration::state).containsExactly(MigrationState.SNAPSHOTTING);
        }
    }
}
