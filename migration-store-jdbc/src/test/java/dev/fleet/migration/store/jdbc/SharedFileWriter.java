package dev.fleet.migration.store.jdbc;

import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationEvent;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.StaleVersionException;
import dev.fleet.migration.core.testing.Migrations;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;

/**
 * A second process for {@code SqliteMigrationStoreTest}: opens the store file it is given and
 * saves {@code rounds} new versions of one migration with read-modify-compare-and-set, retrying
 * when another process saved first. As a child process it prints {@code ready} once the store is
 * open and starts when a line arrives on stdin, so every writer starts at once; it ends by
 * printing {@code saved <n> stale <m>}.
 */
public final class SharedFileWriter {
    private SharedFileWriter() {}

    public static void main(String[] args) {
        Path file = Path.of(args[0]);
        MigrationId id = MigrationId.of(args[1]);
        int rounds = Integer.parseInt(args[2]);
        String name = args[3];
        try (SqliteMigrationStore store = SqliteMigrationStore.open(file)) {
            System.out.println("ready");
            System.out.flush();
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            System.out.println(run(store, id, rounds, name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String run(SqliteMigrationStore store, MigrationId id, int rounds, String name) {
        int stale = 0;
        for (int i = 0; i < rounds; ) {
            Migration current = store.find(id).orElseThrow();
            Migration next = Migrations.apply(current,
                    new MigrationEvent.Waiting(name + " round " + i), Clock.systemUTC());
            try {
                store.update(next);
                i++;
                pause(); // like a tick cadence: lets the other writers in between saves
            } catch (StaleVersionException e) {
                stale++;
            }
        }
        return "saved " + rounds + " stale " + stale;
    }

    private static void pause() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
