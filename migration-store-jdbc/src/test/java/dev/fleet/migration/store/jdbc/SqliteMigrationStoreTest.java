package dev.fleet.migration.store.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.ActiveMigrationExistsException;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.Compensation;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationEvent;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.Progress;
import dev.fleet.migration.core.StoreException;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.testing.Migrations;
import dev.fleet.migration.core.testing.MutableClock;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the SQLite store does beyond the contract: schema, durability, history, scale, errors. */
class SqliteMigrationStoreTest {
    @TempDir
    Path dir;

    private final MutableClock clock = MutableClock.at("2026-01-01T00:00:00Z");
    private final List<SqliteMigrationStore> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(SqliteMigrationStore::close);
    }

    private Path file() {
        return dir.resolve("fleet").resolve("migrations.db");
    }

    private SqliteMigrationStore open() {
        return track(SqliteMigrationStore.open(file()));
    }

    private SqliteMigrationStore track(SqliteMigrationStore s) {
        opened.add(s);
        return s;
    }

    private Migration pending(String id, String app) {
        clock.advance(Duration.ofMillis(1));
        return Migrations.pending(id, app, clock.instant());
    }

    private Migration save(SqliteMigrationStore store, Migration m, MigrationEvent e) {
        clock.advance(Duration.ofMillis(1));
        Migration next = Migrations.apply(m, e, clock);
        store.update(next);
        return next;
    }

    /** Drives a migration through every state to DONE, saving each step; returns every version. */
    private List<Migration> runToDone(SqliteMigrationStore store, Migration m) {
        List<Migration> saved = new ArrayList<>(List.of(m));
        store.insert(m);
        while (m.state() != MigrationState.DONE) {
            for (OperationKind k : OperationKind.of(m.state())) {
                m = save(store, m, new MigrationEvent.OperationStarted(k));
                saved.add(m);
                if (k == OperationKind.TRANSFER) {
                    m = save(store, m, new MigrationEvent.ProgressReported(new Progress(512, 1024, 128.25)));
                    saved.add(m);
                }
                m = save(store, m, Migrations.finished(k, k == OperationKind.SNAPSHOT
                        ? Optional.of(Migrations.archive(m.id().value())) : Optional.empty()));
                saved.add(m);
            }
            m = save(store, m, new MigrationEvent.Advanced(
                    m.state() == MigrationState.PENDING ? Map.of("app.port", "8080") : Map.of()));
            saved.add(m);
        }
        return saved;
    }

    private Connection raw() throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + file());
    }

    private static long queryLong(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Nested
    @DisplayName("schema")
    class SchemaVersions {
        @Test
        @DisplayName("a new file gets the current schema version, in WAL mode")
        void createsCurrentSchemaInWalMode() throws SQLException {
            open();
            try (Connection c = raw()) {
                assertThat(queryLong(c, "SELECT MAX(version) FROM schema_version")).isEqualTo(Schema.CURRENT);
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualToIgnoringCase("wal");
                }
            }
        }

        @Test
        @DisplayName("reopening applies no step twice")
        void reopeningAppliesNothingTwice() throws SQLException {
            open().close();
            open().close();
            try (Connection c = raw()) {
                assertThat(queryLong(c, "SELECT COUNT(*) FROM schema_version")).isEqualTo(Schema.STEPS.size());
            }
        }

        @Test
        @DisplayName("a database written by a newer Fleet is refused with a clear message and left unchanged")
        void refusesDatabaseWithNewerSchema() throws SQLException {
            SqliteMigrationStore first = open();
            first.insert(pending("m-1", "web"));
            first.close();
            try (Connection c = raw(); Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO schema_version (version, description, applied_at)"
                        + " VALUES (99, 'from the future', '2030-01-01T00:00:00Z')");
            }
            assertThatThrownBy(SqliteMigrationStoreTest.this::open)
                    .isInstanceOf(SchemaTooNewException.class)
                    .hasMessageContaining("schema version 99")
                    .hasMessageContaining("up to " + Schema.CURRENT)
                    .hasMessageContaining(file().toString())
                    .satisfies(e -> assertThat(((SchemaTooNewException) e).found()).isEqualTo(99));
            try (Connection c = raw()) {
                assertThat(queryLong(c, "SELECT MAX(version) FROM schema_version")).isEqualTo(99);
                assertThat(queryLong(c, "SELECT COUNT(*) FROM migrations")).isEqualTo(1);
            }
        }

        @Test
        @DisplayName("a file that is not a database is refused with the driver's reason")
        void refusesFileThatIsNotADatabase() throws IOException {
            Files.createDirectories(file().getParent());
            Files.write(file(), "this is not a database, just some text long enough to have a header"
                    .repeat(20).getBytes(StandardCharsets.UTF_8));
            assertThatThrownBy(SqliteMigrationStoreTest.this::open)
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining(file().toString())
                    .hasMessageContaining("not a database");
        }
    }

    @Nested
    @DisplayName("durability")
    class Durability {
        @Test
        @DisplayName("a reopened file holds every record, its history, the epochs and the active rule")
        void reopeningKeepsEverything() {
            SqliteMigrationStore first = open();
            List<Migration> done = runToDone(first, pending("m-done", "web"));
            Migration failed = pending("m-failed", "compose:shop");
            first.insert(failed);
            failed = save(first, failed, new MigrationEvent.Adopted(7));
            failed = save(first, failed, new MigrationEvent.FailureRequested("aborted: by operator"));
            Migration failing = failed;
            failed = save(first, failed, new MigrationEvent.Failed("aborted: by operator \u00e9t\u00e9 \"q\"",
                    new Compensation(Compensation.Outcome.INCOMPLETE, List.of("target b: removed container"))));
            Migration active = pending("m-active", "api");
            first.insert(active);
            active = save(first, active, new MigrationEvent.Waiting("node b is at its limit"));
            List<Migration> list = first.list();
            first.close();

            SqliteMigrationStore second = open();
            assertThat(second.list()).isEqualTo(list);
            assertThat(second.find(active.id())).contains(active);
            assertThat(second.find(failed.id())).contains(failed);
            assertThat(second.history(failed.id())).contains(failing);
            assertThat(failing.failing()).contains("aborted: by operator");
            assertThat(second.history(MigrationId.of("m-done"))).isEqualTo(done);
            assertThat(second.active()).containsExactly(active);
            assertThat(failed.epoch()).isGreaterThanOrEqualTo(7); // a failure request may raise it further
            assertThat(second.maxEpoch(AppRef.parse("compose:shop"))).isEqualTo(failed.epoch());
            assertThatThrownBy(() -> second.insert(pending("m-again", "api")))
                    .isInstanceOf(ActiveMigrationExistsException.class)
                    .hasMessageContaining("m-active");
        }
    }

    @Nested
    @DisplayName("history")
    class History {
        @Test
        @DisplayName("every transition of a migration run to DONE is kept, equal to what was saved")
        void keepsEveryTransition() {
            SqliteMigrationStore store = open();
            List<Migration> saved = runToDone(store, pending("m-1", "web"));
            List<Migration> history = store.history(MigrationId.of("m-1"));
            assertThat(history).isEqualTo(saved);
            assertThat(history).extracting(Migration::version)
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, saved.size()).boxed().toList());
            assertThat(history).extracting(Migration::state).containsSubsequence(
                    MigrationState.PENDING, MigrationState.SNAPSHOTTING, MigrationState.TRANSFERRING,
                    MigrationState.RESTORING, MigrationState.CUTOVER, MigrationState.DONE);
            assertThat(history.get(history.size() - 1).downtime()).isPresent();
            assertThat(store.find(MigrationId.of("m-1"))).contains(saved.get(saved.size() - 1));
        }
    }

    @Nested
    @DisplayName("the database enforces the rules itself")
    class DatabaseConstraints {
        @Test
        @DisplayName("a second active row for one app is refused by the database, not only by the store")
        void databaseRefusesSecondActiveRow() throws SQLException {
            open().insert(pending("m-1", "web"));
            try (Connection c = raw(); Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.executeUpdate("INSERT INTO migrations"
                        + " (id, app, state, version, epoch, created_at_s, created_at_ns, record)"
                        + " VALUES ('m-2', 'web', 'CUTOVER', 1, 1, 0, 0, '{}')"))
                        .isInstanceOf(SQLException.class).hasMessageContaining("UNIQUE");
                s.executeUpdate("INSERT INTO migrations"
                        + " (id, app, state, version, epoch, created_at_s, created_at_ns, record)"
                        + " VALUES ('m-3', 'web', 'DONE', 1, 1, 0, 0, '{}')");
            }
        }

        @Test
        @DisplayName("a version appears at most once in the history")
        void databaseRefusesDuplicateHistoryVersion() throws SQLException {
            open().insert(pending("m-1", "web"));
            try (Connection c = raw(); Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.executeUpdate("INSERT INTO migration_history"
                        + " (id, version, app, state, epoch, record) VALUES ('m-1', 1, 'web', 'PENDING', 1, '{}')"))
                        .isInstanceOf(SQLException.class).hasMessageContaining("UNIQUE");
            }
        }
    }

    @Nested
    @DisplayName("sharing one file")
    class Sharing {
        @Test
        @DisplayName("a write through one store instance moves the other's change stamp within moments, so nothing cached from it stays stale")
        void writesOfAnotherInstanceMoveTheStamp() {
            SqliteMigrationStore reader = open();
            SqliteMigrationStore writer = open();
            Migration m = pending("m-1", "web");
            writer.insert(m);
            java.util.OptionalLong before = reader.changeStamp();
            assertThat(before).isPresent();
            assertThat(reader.changeStamp()).isEqualTo(before);
            writer.update(Migrations.apply(m, new MigrationEvent.Advanced(java.util.Map.of()), clock));
            long deadline = System.nanoTime() + 2_000_000_000L; // another instance's write shows within ~20 ms
            while (reader.changeStamp().equals(before) && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(reader.changeStamp()).isPresent().isNotEqualTo(before);
            reader.close();
            assertThat(reader.changeStamp()).isEmpty(); // closed: nothing may be cached
        }

        @Test
        @DisplayName("two store instances on one file racing inserts for one app: exactly one wins")
        void twoInstancesRacingInsertsOneWins() throws Exception {
            List<SqliteMigrationStore> stores = List.of(open(), open());
            int n = 8;
            ExecutorService pool = Executors.newFixedThreadPool(n);
            CountDownLatch go = new CountDownLatch(1);
            AtomicInteger won = new AtomicInteger();
            List<String> named = Collections.synchronizedList(new ArrayList<>());
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                SqliteMigrationStore store = stores.get(i % 2);
                Migration m = pending("m-" + i, "web");
                fs.add(pool.submit(() -> {
                    go.await();
                    try {
                        store.insert(m);
                        won.incrementAndGet();
                    } catch (ActiveMigrationExistsException lost) {
                        named.add(lost.existing().value());
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : fs) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertThat(won).hasValue(1);
            String winner = stores.get(0).active().get(0).id().value();
            assertThat(named).hasSize(n - 1).containsOnly(winner);
        }

        @Test
        @DisplayName("three processes saving one migration by compare-and-set lose no version")
        void threeProcessesLoseNoVersion() throws Exception {
            SqliteMigrationStore store = open();
            Migration m = pending("m-shared", "web");
            store.insert(m);
            int rounds = 60;
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<Process> children = new ArrayList<>();
            List<BufferedReader> outs = new ArrayList<>();
            for (String name : List.of("child-1", "child-2")) {
                Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                        SharedFileWriter.class.getName(), file().toString(), "m-shared",
                        String.valueOf(rounds), name)
                        .redirectErrorStream(true).start();
                children.add(p);
                outs.add(new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
            }
            for (BufferedReader out : outs) {
                String line;
                do {
                    line = out.readLine(); // skips anything a logger printed first
                } while (line != null && !line.equals("ready"));
                assertThat(line).as("the child opened the file").isEqualTo("ready");
            }
            for (Process p : children) {
                p.getOutputStream().write('\n');
                p.getOutputStream().flush();
            }
            String mine = SharedFileWriter.run(store, m.id(), rounds, "parent");
            for (int i = 0; i < children.size(); i++) {
                Process p = children.get(i);
                assertThat(p.waitFor(45, TimeUnit.SECONDS)).as("child finished").isTrue();
                String out = outs.get(i).lines().reduce("", (a, b) -> a + b + "\n");
                assertThat(p.exitValue()).as(out).isZero();
                System.out.println("[shared file] child: " + out.strip());
            }
            System.out.println("[shared file] parent: " + mine);
            List<String> writers = store.history(m.id()).stream().skip(1)
                    .map(h -> h.detail().orElseThrow().split(" ")[0]).toList();
            long switches = LongStream.range(1, writers.size())
                    .filter(i -> !writers.get((int) i).equals(writers.get((int) i - 1))).count();
            System.out.println("[shared file] the writer changed " + switches + " times in " + writers.size()
                    + " saves");
            List<Migration> history = store.history(m.id());
            assertThat(history).hasSize(1 + 3 * rounds);
            assertThat(history).extracting(Migration::version)
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, 1 + 3 * rounds).boxed().toList());
            assertThat(history.stream().skip(1).map(h -> h.detail().orElseThrow()).distinct()).hasSize(3 * rounds);
            assertThat(store.find(m.id())).contains(history.get(history.size() - 1));
        }
    }

    @Nested
    @DisplayName("errors")
    class Errors {
        @Test
        @DisplayName("a full disk becomes a StoreException with the cause's message; nothing half-saved; reads go on")
        void diskFullBecomesStoreException() {
            SqliteMigrationStore store = track(SqliteMigrationStore.builder(file())
                    .onConnect(c -> {
                        try (Statement s = c.createStatement();
                             ResultSet rs = s.executeQuery("PRAGMA max_page_count = 40")) {
                            rs.next();
                        }
                    })
                    .open());
            String detail = "x".repeat(2000);
            StoreException failure = null;
            int saved = 0;
            for (int i = 0; i < 1000 && failure == null; i++) {
                Migration m = pending("m-" + i, "app" + i);
                try {
                    store.insert(m);
                    save(store, m, new MigrationEvent.Waiting(detail));
                    saved++;
                } catch (StoreException e) {
                    failure = e;
                }
            }
            assertThat(failure).as("the database filled up").isNotNull();
            System.out.println("[disk full] after " + saved + " migrations: " + failure.getMessage());
            assertThat(failure).hasMessageContaining("full").hasMessageContaining(file().toString());
            assertThat(store.list()).hasSizeBetween(saved, saved + 1);
            for (Migration m : store.list()) {
                assertThat(store.history(m.id())).last().isEqualTo(m);
            }
        }

        @Test
        @DisplayName("an unreadable record is reported naming the migration")
        void unreadableRecordNamesTheMigration() throws SQLException {
            SqliteMigrationStore store = open();
            store.insert(pending("m-1", "web"));
            try (Connection c = raw(); Statement s = c.createStatement()) {
                s.executeUpdate("UPDATE migrations SET record = '{\"format\": 1}' WHERE id = 'm-1'");
            }
            assertThatThrownBy(() -> store.find(MigrationId.of("m-1")))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("migration m-1")
                    .hasMessageContaining("progress must be an object");
        }

        @Test
        @DisplayName("a closed store refuses every call")
        void closedStoreRefuses() {
            SqliteMigrationStore store = open();
            store.close();
            store.close();
            assertThatThrownBy(store::list).isInstanceOf(StoreException.class).hasMessageContaining("closed");
            assertThatThrownBy(() -> store.insert(pending("m-1", "web")))
                    .isInstanceOf(StoreException.class).hasMessageContaining("closed");
        }
    }

    @Nested
    @DisplayName("scale")
    class Scale {
        @Test
        @DisplayName("10,000 migrations list quickly (time printed, not asserted)")
        void tenThousandMigrationsListQuickly() {
            SqliteMigrationStore store = track(SqliteMigrationStore.builder(file())
                    .synchronous(SqliteMigrationStore.Synchronous.NORMAL)
                    .open());
            int n = 10_000;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                Migration m = pending(String.format("m-%05d", i), "app-" + i);
                store.insert(m);
                if (i % 2 == 0) {
                    save(store, m, new MigrationEvent.Failed("test", Compensation.NOT_NEEDED));
                }
            }
            long t1 = System.nanoTime();
            List<Migration> all = store.list();
            long t2 = System.nanoTime();
            store.list();
            long t2b = System.nanoTime();
            List<Migration> active = store.active();
            long t3 = System.nanoTime();
            store.find(MigrationId.of("m-05000"));
            long t4 = System.nanoTime();
            System.out.printf("[scale] %d inserts + %d updates: %d ms; list(): %d ms (again: %d ms);"
                    + " active() of %d: %d ms; find(): %.2f ms%n", n, n / 2, (t1 - t0) / 1_000_000,
                    (t2 - t1) / 1_000_000, (t2b - t2) / 1_000_000, active.size(), (t3 - t2b) / 1_000_000,
                    (t4 - t3) / 1e6);
            assertThat(all).hasSize(n);
            assertThat(all.get(0).id().value()).isEqualTo("m-09999");
            assertThat(active).hasSize(n / 2);
            assertThat(active.get(0).id().value()).isEqualTo("m-00001");
        }
    }

    @Nested
    @DisplayName("checkpoints")
    class Checkpoints {
        @Test
        @DisplayName("the WAL stays bounded under a sustained stream of saves, and closing truncates it")
        void walStaysBounded() throws Exception {
            Path file = file();
            SqliteMigrationStore store = track(SqliteMigrationStore.builder(file)
                    .synchronous(SqliteMigrationStore.Synchronous.NORMAL)
                    .open());
            Path wal = file.resolveSibling(file.getFileName() + "-wal");
            long largest = 0;
            for (int i = 0; i < 3_000; i++) {
                Migration m = pending(String.format("m-w%05d", i), "wal-" + i);
                store.insert(m);
                save(store, m, new MigrationEvent.Failed("test", Compensation.NOT_NEEDED));
                if (i % 100 == 0) {
                    largest = Math.max(largest, java.nio.file.Files.size(wal));
                }
            }
            // 6,000 commits of several pages each would leave a WAL of tens of MiB without checkpoints
            assertThat(largest).as("largest WAL seen, bytes").isLessThan(8L * 1024 * 1024);
            store.close();
            assertThat(java.nio.file.Files.exists(wal) ? java.nio.file.Files.size(wal) : 0L)
                    .as("closing truncates the WAL").isZero();
        }
    }
}
