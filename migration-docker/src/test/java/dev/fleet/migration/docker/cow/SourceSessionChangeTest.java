package dev.fleet.migration.docker.cow;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The portable final delta's change test. The case that lost a late write: on zfs-fuse, times
 * have whole seconds, so a file patched in place (same size, same inode) in the second of the
 * first snapshot looks unchanged by its attributes alone.
 */
class SourceSessionChangeTest {
    @TempDir
    Path dir;

    @Test
    @DisplayName("equal attributes are trusted only for files last changed well before the first snapshot")
    void racilyCleanFilesAreSent() throws Exception {
        Files.writeString(dir.resolve("f"), "same");
        Instant changedAt = Files.readAttributes(dir.resolve("f"), "unix:ctime").get("ctime") instanceof
                java.nio.file.attribute.FileTime t ? t.toInstant() : Instant.EPOCH;
        // the same path on both sides: every attribute is equal, as for an untouched file in two snapshots
        assertThat(SourceSession.changed(dir, dir, "f", changedAt.plus(Duration.ofHours(1))))
                .as("changed long before the snapshot: trusted").isFalse();
        assertThat(SourceSession.changed(dir, dir, "f", changedAt))
                .as("changed in the snapshot's second: sent").isTrue();
        assertThat(SourceSession.changed(dir, dir, "f", changedAt.minusSeconds(1))).isTrue();
    }

    @Test
    @DisplayName("a new file or different attributes are always a change")
    void differencesAreChanges() throws Exception {
        Path before = Files.createDirectories(dir.resolve("before"));
        Path after = Files.createDirectories(dir.resolve("after"));
        Files.writeString(after.resolve("new"), "x");
        Instant future = Instant.now().plus(Duration.ofHours(1));
        assertThat(SourceSession.changed(before, after, "new", future)).isTrue();
        Files.writeString(before.resolve("g"), "one");
        Files.writeString(after.resolve("g"), "two");
        assertThat(SourceSession.changed(before, after, "g", future)).as("another inode").isTrue();
    }

    @Test
    @DisplayName("the racy window starts two whole seconds before the instant read before the snapshot")
    void racyWindow() {
        assertThat(SourceSession.racyFrom(Instant.parse("2026-11-30T12:00:10.750Z")))
                .isEqualTo(Instant.parse("2026-11-30T12:00:08Z"));
    }
}
