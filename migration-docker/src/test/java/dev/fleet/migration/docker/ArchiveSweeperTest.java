package dev.fleet.migration.docker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.MigrationId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("The retention sweep of an archive directory")
class ArchiveSweeperTest {
    private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");
    private static final Instant CUTOFF = NOW.minus(Duration.ofDays(7));
    private static final Instant OLD = NOW.minus(Duration.ofDays(8));

    @TempDir
    Path dir;
    @TempDir
    Path outside;

    private Path file(String name, Instant modified) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, name);
        touch(p, modified);
        return p;
    }

    private static void touch(Path p, Instant when) throws IOException {
        Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .setTimes(FileTime.from(when), null, null);
    }

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    @DisplayName("removes every file of an old, unreferenced migration, staging trees included, and nothing else")
    void removesOldUnreferencedMigrations() throws IOException {
        file("m-old.tar", OLD);
        file("m-old.fence", OLD);
        file("m-old.delta.tar", OLD);
        file(".m-old.tar.part", OLD);
        Path staging = Files.createDirectories(dir.resolve("m-old.staging").resolve("volumes").resolve("data"));
        Files.writeString(staging.resolve("f"), "x".repeat(1000));
        touch(staging.resolve("f"), OLD);
        touch(staging, OLD);
        touch(staging.getParent(), OLD);
        touch(dir.resolve("m-old.staging"), OLD);
        file("m-recent.tar", NOW.minus(Duration.ofDays(1)));
        file("m-mixed.tar", OLD);
        file("m-mixed.delta.tar", NOW.minus(Duration.ofHours(1))); // still in use: newest decides
        file("m-kept.tar", OLD);
        file("journal.jsonl", OLD);
        file("README", OLD);
        file("Not-An-Id.tar", OLD);

        List<String> removed = ArchiveSweeper.sweep(dir, CUTOFF, Set.of(MigrationId.of("m-kept")));

        assertThat(removed).hasSize(1);
        assertThat(removed.get(0)).startsWith("removed the files of m-old (")
                .contains("m-old.tar", "m-old.fence", "m-old.staging", ".m-old.tar.part");
        assertThat(names()).containsExactly("Not-An-Id.tar", "README", "journal.jsonl", "m-kept.tar",
                "m-mixed.delta.tar", "m-mixed.tar", "m-recent.tar");
        assertThat(ArchiveSweeper.sweep(dir, CUTOFF, Set.of(MigrationId.of("m-kept")))).as("idempotent").isEmpty();
    }

    @Test
    @DisplayName("removes a symbolic link named like an archive without following it")
    void neverFollowsLinks() throws IOException {
        Path precious = Files.writeString(outside.resolve("precious"), "keep me");
        Path preciousDir = Files.createDirectories(outside.resolve("tree"));
        Files.writeString(preciousDir.resolve("inner"), "keep me too");
        Path link = Files.createSymbolicLink(dir.resolve("m-evil.tar"), precious);
        Path dirLink = Files.createSymbolicLink(dir.resolve("m-evil.staging"), preciousDir);
        touch(link, OLD);
        touch(dirLink, OLD);

        assertThat(ArchiveSweeper.sweep(dir, CUTOFF, Set.of())).hasSize(1);

        assertThat(names()).isEmpty();
        assertThat(precious).hasContent("keep me");
        assertThat(preciousDir.resolve("inner")).hasContent("keep me too");
    }

    @Test
    @DisplayName("a missing archive directory has nothing to sweep")
    void missingDirectory() {
        assertThat(ArchiveSweeper.sweep(dir.resolve("absent"), CUTOFF, Set.of())).isEmpty();
    }

    @Test
    @DisplayName("names that belong to a migration, and names that do not")
    void owners() {
        assertThat(ArchiveSweeper.owner("m-1.tar")).contains(MigrationId.of("m-1"));
        assertThat(ArchiveSweeper.owner(".m-1.tar.partial")).contains(MigrationId.of("m-1"));
        assertThat(ArchiveSweeper.owner("journal.jsonl")).isEmpty();
        assertThat(ArchiveSweeper.owner("m-1")).isEmpty();
        assertThat(ArchiveSweeper.owner("..")).isEmpty();
        assertThat(ArchiveSweeper.owner("UPPER.tar")).isEmpty();
    }
}
