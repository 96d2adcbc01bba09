package dev.fleet.migration.docker.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every hostile archive is refused as a whole, and nothing is written outside staging: the
 * directory next to staging stays empty and staging itself is gone afterwards.
 */
@DisplayName("Hostile archives are refused before a byte lands outside staging")
class HostileArchiveTest {

    @TempDir
    Path tmp;
    Path outside;
    Path staging;

    @BeforeEach
    void setUp() throws IOException {
        outside = Files.createDirectories(tmp.resolve("outside"));
        staging = tmp.resolve("staging");
    }

    /** One entry of a hand-made volume tar. */
    record E(String name, byte flag, String link, String content, int mode) {
        static E file(String name, String content) {
            return new E(name, TarConstants.LF_NORMAL, null, content, 0100644);
        }

        static E dir(String name) {
            return new E(name, TarConstants.LF_DIR, null, null, 040755);
        }

        static E symlink(String name, String target) {
            return new E(name, TarConstants.LF_SYMLINK, target, null, 0120777);
        }

        static E hardlink(String name, String target) {
            return new E(name, TarConstants.LF_LINK, target, null, 0100644);
        }
    }

    static byte[] volumeTar(E... entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes, StandardCharsets.UTF_8.name())) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (E e : entries) {
                TarArchiveEntry t = new TarArchiveEntry(e.name, e.flag, true); // keep absolute names as given
                t.setMode(e.mode);
                if (e.link != null) {
                    t.setLinkName(e.link);
                }
                byte[] data = e.content == null ? new byte[0] : e.content.getBytes(StandardCharsets.UTF_8);
                if (e.flag == TarConstants.LF_NORMAL) {
                    t.setSize(data.length);
                }
                tar.putArchiveEntry(t);
                tar.write(data);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** A well-formed outer archive (right sizes and sha256s) around a hostile volume tar. */
    Path archiveAround(byte[] volumeTar) {
        Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, Manifest.KIND_SNAPSHOT, "m-evil", "web", List.of(),
                List.of(new Manifest.VolumeSpec("data", "local", Map.of())), List.of(), Map.of());
        Path archive = tmp.resolve("m-evil.tar");
        try (ArchiveWriter w = new ArchiveWriter(tmp.resolve("m-evil.parts"))) {
            w.add(Manifest.entryFor("data"), out -> out.write(volumeTar));
            w.finish(manifest, archive, n -> {});
        }
        return archive;
    }

    void assertRefused(Path archive, String messagePart) throws IOException {
        assertThatThrownBy(() -> ArchiveReader.extract(archive, Optional.empty(), staging, n -> {}))
                .isInstanceOf(ArchiveException.class)
                .hasMessageContaining(messagePart);
        assertThat(staging).doesNotExist();
        try (Stream<Path> s = Files.list(outside)) {
            assertThat(s.toList()).as("files written outside staging").isEmpty();
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString()).sorted().toList())
                    .as("nothing new next to staging").allMatch(n -> n.equals("outside") || n.equals("secret") || n.startsWith("m-evil"));
        }
    }

    @Test
    void rejectsArchiveWithParentPathEntry() throws IOException {
        assertRefused(archiveAround(volumeTar(E.file("ok", "fine"), E.file("../outside/pwned", "x"))), "'..'");
    }

    @Test
    void rejectsArchiveWithParentPathHiddenInTheMiddle() throws IOException {
        assertRefused(archiveAround(volumeTar(E.dir("a/"), E.file("a/../../outside/pwned", "x"))), "'..'");
    }

    @Test
    void rejectsArchiveWithAbsolutePathEntry() throws IOException {
        assertRefused(archiveAround(volumeTar(E.file(outside.resolve("pwned").toString(), "x"))), "absolute path");
    }

    @Test
    void rejectsSymlinkLeavingTheVolumeThenWriteThrough() throws IOException {
        assertRefused(archiveAround(volumeTar(E.symlink("escape", "../outside"), E.file("escape/pwned", "x"))),
                "leaves the volume");
    }

    @Test
    void rejectsAbsoluteSymlinkThenWriteThrough() throws IOException {
        assertRefused(archiveAround(volumeTar(E.symlink("escape", outside.toString()), E.file("escape/pwned", "x"))),
                "absolute path");
    }

    @Test
    void rejectsWritingThroughASymlinkEvenInsideTheVolume() throws IOException {
        assertRefused(archiveAround(volumeTar(E.dir("real/"), E.symlink("alias", "real"), E.file("alias/file", "x"))),
                "below the symlink");
    }

    @Test
    void rejectsHardlinkOutOfTheVolume() throws IOException {
        Files.writeString(tmp.resolve("secret"), "secret");
        try {
            assertRefused(archiveAround(volumeTar(E.hardlink("h", "../secret"))), "'..'");
            assertRefused(archiveAround(volumeTar(E.hardlink("h", tmp.resolve("secret").toString()))),
                    "absolute path");
        } finally {
            Files.delete(tmp.resolve("secret"));
        }
    }

    @Test
    void rejectsHardlinkToSomethingNotExtracted() throws IOException {
        assertRefused(archiveAround(volumeTar(E.hardlink("h", "never-written"))), "not a regular file");
    }

    @Test
    void rejectsDeviceNode() throws IOException {
        assertRefused(archiveAround(volumeTar(E.file("ok", "x"),
                new E("dev/sda", TarConstants.LF_BLK, null, null, 060600))), "block device");
        assertRefused(archiveAround(volumeTar(new E("null", TarConstants.LF_CHR, null, null, 020666))),
                "character device");
    }

    @Test
    void rejectsFifo() throws IOException {
        assertRefused(archiveAround(volumeTar(new E("pipe", TarConstants.LF_FIFO, null, null, 010644))), "FIFO");
    }

    @Test
    void rejectsSetuidFile() throws IOException {
        assertRefused(archiveAround(volumeTar(new E("su", TarConstants.LF_NORMAL, null, "x", 0104755))), "setuid");
    }

    @Test
    void rejectsTruncatedArchive() throws IOException {
        byte[] big = new byte[200_000];
        new Random(1).nextBytes(big);
        Path good = archiveAround(volumeTar(E.file("big", new String(big, StandardCharsets.ISO_8859_1))));
        byte[] all = Files.readAllBytes(good);
        Files.write(good, java.util.Arrays.copyOf(all, all.length / 2));
        assertRefused(good, "truncated");
    }

    @Test
    void rejectsZeroByteArchive() throws IOException {
        Path empty = Files.write(tmp.resolve("m-evil.tar"), new byte[0]);
        assertRefused(empty, "empty");
    }

    @Test
    void rejects1024BytesOfGarbage() throws IOException {
        byte[] garbage = new byte[1024];
        new Random(42).nextBytes(garbage);
        Path file = Files.write(tmp.resolve("m-evil.tar"), garbage);
        assertRefused(file, "refused");
    }

    @Test
    void rejects1024ZeroBytes() throws IOException {
        Path file = Files.write(tmp.resolve("m-evil.tar"), new byte[1024]);
        assertRefused(file, "empty");
    }

    @Test
    void rejectsEntryWhoseSha256DoesNotMatchTheManifest() throws IOException {
        Path good = archiveAround(volumeTar(E.file("data.txt", "AAAAAAAAAAAAAAAA")));
        byte[] all = Files.readAllBytes(good);
        String s = new String(all, StandardCharsets.ISO_8859_1);
        int at = s.indexOf("AAAAAAAAAAAAAAAA");
        all[at] = 'B';
        Files.write(good, all);
        assertRefused(good, "sha256");
    }

    @Test
    void rejectsWholeFileWhoseSha256IsNotTheExpectedOne() throws IOException {
        Path good = archiveAround(volumeTar(E.file("data.txt", "x")));
        assertThatThrownBy(() -> ArchiveReader.extract(good, Optional.of("0".repeat(64)), staging, n -> {}))
                .isInstanceOf(ArchiveException.class).hasMessageContaining("sha256");
        assertThat(staging).doesNotExist();
    }

    @Test
    void rejectsArchiveWhoseFirstEntryIsNotTheManifest() throws IOException {
        Path file = tmp.resolve("m-evil.tar");
        Files.write(file, volumeTar(E.file("volumes/data.tar", "x")));
        assertRefused(file, "first entry must be manifest.json");
    }

    @Test
    void rejectsManifestNamingAHostileEntry() throws IOException {
        Path file = tmp.resolve("m-evil.tar");
        String json = "{\"formatVersion\":1,\"kind\":\"snapshot\",\"migration\":\"m-evil\",\"app\":\"web\","
                + "\"volumes\":[{\"name\":\"data\"}],\"entries\":[{\"name\":\"volumes/../../x.tar\",\"size\":1,"
                + "\"sha256\":\"" + "0".repeat(64) + "\"}]}";
        Files.write(file, volumeTar(E.file("manifest.json", json)));
        assertRefused(file, "neither image.tar nor");
    }
}
