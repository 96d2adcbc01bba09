package dev.fleet.migration.docker.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("A volume tree survives the archive byte for byte")
public class ArchiveRoundTripTest {

    @TempDir
    Path tmp;

    /** A tree with every kind of thing a volume holds. */
    public static void oddTree(Path root) throws IOException {
        Files.createDirectories(root.resolve("dir/nested/deeper"));
        Files.createDirectories(root.resolve("empty"));
        Files.writeString(root.resolve("plain.txt"), "hello\n");
        Files.writeString(root.resolve("dir/nested/deeper/leaf"), "leaf");
        Files.writeString(root.resolve("ünïcödé-名前.txt"), "utf8");
        Files.writeString(root.resolve("new\nline and space 'quote' \\back"), "odd");
        Files.writeString(root.resolve("-leading-dash"), "dash");
        Files.writeString(root.resolve("x".repeat(200)), "long name");
        Path longDir = root.resolve("d".repeat(120)).resolve("e".repeat(120));
        Files.createDirectories(longDir);
        Files.writeString(longDir.resolve("f".repeat(100)), "long path");
        Files.writeString(root.resolve("owned-by-1000"), "app data");
        Files.setAttribute(root.resolve("owned-by-1000"), "unix:uid", 1000);
        Files.setAttribute(root.resolve("owned-by-1000"), "unix:gid", 1000);
        Files.setAttribute(root.resolve("dir"), "unix:uid", 1000);
        Files.setAttribute(root.resolve("plain.txt"), "unix:mode", 0640);
        Files.writeString(root.resolve("exec.sh"), "#!/bin/sh\n");
        Files.setAttribute(root.resolve("exec.sh"), "unix:mode", 0755);
        Files.createDirectories(root.resolve("sticky"));
        Files.setAttribute(root.resolve("sticky"), "unix:mode", 01777);
        Files.createDirectories(root.resolve("shared-group"));
        Files.setAttribute(root.resolve("shared-group"), "unix:mode", 02775);
        Files.createSymbolicLink(root.resolve("link-to-plain"), Path.of("plain.txt"));
        Files.createSymbolicLink(root.resolve("dir/link-up"), Path.of("../plain.txt"));
        Files.createSymbolicLink(root.resolve("dangling"), Path.of("does-not-exist"));
        Files.createLink(root.resolve("hard-a"), root.resolve("plain.txt"));
        Files.createLink(root.resolve("dir/hard-b"), root.resolve("plain.txt"));
        try (RandomAccessFile sparse = new RandomAccessFile(root.resolve("sparse.img").toFile(), "rw")) {
            sparse.seek(8L << 20);
            sparse.write("middle".getBytes(StandardCharsets.UTF_8));
            sparse.setLength(16L << 20);
        }
        Path readOnly = root.resolve("read-only");
        Files.createDirectories(readOnly);
        Files.writeString(readOnly.resolve("inside"), "ro");
        Files.setAttribute(readOnly, "unix:mode", 0555);
        UserDefinedFileAttributeView x = Files.getFileAttributeView(root.resolve("plain.txt"),
                UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        try {
            x.write("fleet.test", ByteBuffer.wrap(new byte[] {1, 2, (byte) 0xff}));
        } catch (IOException | UnsupportedOperationException noXattrs) {
            // the test filesystem has no user xattrs; the rest still applies
        }
    }

    @Test
    void preservesPathsModesOwnersLinksAndContents() throws IOException {
        Path source = Files.createDirectories(tmp.resolve("source"));
        oddTree(source);
        Path archive = tmp.resolve("m-1.tar");
        var info = writeArchive(source, archive);

        Path staging = tmp.resolve("staging");
        var verified = ArchiveReader.extract(archive, Optional.of(info.sha256()), staging, n -> {});

        Path restored = staging.resolve("volumes/data");
        assertThat(verified.sha256()).isEqualTo(info.sha256());
        assertThat(TreeFingerprint.of(restored)).isEqualTo(TreeFingerprint.of(source));
        assertThat(Files.readString(restored.resolve("hard-a"))).isEqualTo("hello\n");
        assertThat(Files.getAttribute(restored.resolve("hard-a"), "unix:ino"))
                .isEqualTo(Files.getAttribute(restored.resolve("plain.txt"), "unix:ino"));
        assertThat(Files.readSymbolicLink(restored.resolve("dangling"))).isEqualTo(Path.of("does-not-exist"));
        assertThat(Files.getAttribute(restored.resolve("owned-by-1000"), "unix:uid")).isEqualTo(1000);
        assertThat(Files.exists(restored.resolve("empty"))).isTrue();
        assertThat(Files.getAttribute(restored.resolve("sticky"), "unix:mode", LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(040000 | 01777);
        assertThat(Files.size(restored.resolve("sparse.img"))).isEqualTo(16L << 20);
        UserDefinedFileAttributeView sourceX = Files.getFileAttributeView(source.resolve("plain.txt"),
                UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        if (sourceX.list().contains("fleet.test")) { // only where the test filesystem keeps user xattrs
            UserDefinedFileAttributeView x = Files.getFileAttributeView(restored.resolve("plain.txt"),
                    UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            ByteBuffer value = ByteBuffer.allocate(x.size("fleet.test"));
            x.read("fleet.test", value);
            assertThat(value.array()).containsExactly(1, 2, (byte) 0xff);
        }
    }

    @Test
    @DisplayName("every file mode survives, whether the umask would strip bits at creation or not")
    void preservesEveryFileModeWhateverTheUmask() throws IOException {
        Path source = Files.createDirectories(tmp.resolve("source"));
        // 0777 and 0666 lose bits to a usual umask (022) at creation and need a chmod; 0644, 0600 and 0 do
        // not; a sticky bit is never given at creation
        int[] modes = {0777, 0666, 0755, 0644, 0640, 0600, 0400, 0200, 0, 01644};
        for (int mode : modes) {
            Path f = source.resolve("mode-" + Integer.toOctalString(mode));
            Files.writeString(f, "mode " + Integer.toOctalString(mode));
            Files.setAttribute(f, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
        }
        Path archive = tmp.resolve("m-modes.tar");
        writeArchive(source, archive);
        Path staging = tmp.resolve("staging");
        ArchiveReader.extract(archive, Optional.empty(), staging, n -> {});
        Path restored = staging.resolve("volumes/data");
        for (int mode : modes) {
            Path f = restored.resolve("mode-" + Integer.toOctalString(mode));
            assertThat(Integer.toOctalString((Integer) Files.getAttribute(f, "unix:mode", LinkOption.NOFOLLOW_LINKS)
                    & 07777)).as(f.getFileName().toString()).isEqualTo(Integer.toOctalString(mode));
            assertThat(Files.readString(f)).isEqualTo("mode " + Integer.toOctalString(mode));
        }
        assertThat(TreeFingerprint.of(restored)).isEqualTo(TreeFingerprint.of(source));
    }

    @Test
    void keepsSparseFilesSparse() throws IOException {
        Path source = Files.createDirectories(tmp.resolve("source"));
        try (RandomAccessFile sparse = new RandomAccessFile(source.resolve("sparse.img").toFile(), "rw")) {
            sparse.seek(32L << 20);
            sparse.write(1);
            sparse.setLength(64L << 20);
        }
        Path archive = tmp.resolve("m-2.tar");
        writeArchive(source, archive);
        Path staging = tmp.resolve("staging");
        ArchiveReader.extract(archive, Optional.empty(), staging, n -> {});
        Path restored = staging.resolve("volumes/data/sparse.img");
        assertThat(Files.size(restored)).isEqualTo(64L << 20);
        assertThat(TreeFingerprint.of(staging.resolve("volumes/data"))).isEqualTo(TreeFingerprint.of(source));
        // st_blocks is not in Java's attribute views; a 64 MiB file with one byte of data fits in a few blocks
        assertThat(allocatedBytes(restored)).isLessThan(1L << 20);
    }

    @Test
    void writesFilesOver8GiBWithPosixHeaders() throws IOException {
        Path source = Files.createDirectories(tmp.resolve("source"));
        long nineGiB = 9L << 30;
        try (RandomAccessFile big = new RandomAccessFile(source.resolve("big.img").toFile(), "rw")) {
            big.setLength(nineGiB);
        }
        HeadCapture head = new HeadCapture(64 * 1024);
        // streaming 9 GiB of zeros takes too long for a unit test: stop once the headers are out
        assertThatThrownBy(() -> VolumeTarWriter.of(source).write(head)).hasRootCauseInstanceOf(Enough.class);
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(head.bytes()))) {
            TarArchiveEntry root = in.getNextEntry();
            assertThat(root.isDirectory()).isTrue();
            TarArchiveEntry big = in.getNextEntry();
            assertThat(big.getName()).isEqualTo("big.img");
            assertThat(big.getSize()).isEqualTo(nineGiB);
        }
    }

    @Test
    void manifestComesFirstAndTheIndexLast() throws IOException {
        Path source = Files.createDirectories(tmp.resolve("source"));
        Files.writeString(source.resolve("a"), "a");
        Path archive = tmp.resolve("m-3.tar");
        writeArchive(source, archive);
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(archive))) {
            TarArchiveEntry first = in.getNextEntry();
            assertThat(first.getName()).isEqualTo("manifest.json");
            Manifest m = Manifest.parse(in.readAllBytes());
            assertThat(m.formatVersion()).isEqualTo(2);
            assertThat(m.chunkSize()).isEqualTo(ArchiveWriter.CHUNK);
            assertThat(in.getNextEntry().getName()).isEqualTo("image.tar/00000000");
            assertThat(in.getNextEntry().getName()).isEqualTo("volumes/data.tar/00000000");
            TarArchiveEntry last = in.getNextEntry();
            assertThat(last.getName()).isEqualTo("index.json");
            ArchiveIndex index = ArchiveIndex.parse(in.readAllBytes(), m);
            assertThat(index.entries()).extracting(ArchiveIndex.Entry::name)
                    .containsExactly("image.tar", "volumes/data.tar");
            assertThat(index.bodySha256()).hasSize(64);
            assertThat(in.getNextEntry()).isNull();
        }
        assertThat(Files.exists(tmp.resolve("m-3.tar.tmp"))).isFalse();
    }

    static dev.fleet.migration.core.ArchiveInfo writeArchive(Path volume, Path archive) {
        Manifest manifest = new Manifest(Manifest.FORMAT_VERSION, Manifest.KIND_SNAPSHOT, "m-1", "web", List.of(),
                List.of(new Manifest.VolumeSpec("data", "local", Map.of())));
        try (ArchiveWriter w = new ArchiveWriter(archive, manifest)) {
            w.add(Manifest.IMAGE_ENTRY, out -> out.write("not really an image".getBytes(StandardCharsets.UTF_8)));
            w.add(Manifest.entryFor("data"), out -> VolumeTarWriter.of(volume).write(out));
            return w.finish();
        }
    }

    static long allocatedBytes(Path file) throws IOException {
        Process p = new ProcessBuilder("stat", "-c", "%b %B", "--", file.toString()).start();
        String[] out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim().split(" ");
        return Long.parseLong(out[0]) * Long.parseLong(out[1]);
    }

    static final class Enough extends IOException {
        private static final long serialVersionUID = 1L;
    }

    /** Keeps the first bytes written, then refuses more. */
    static final class HeadCapture extends OutputStream {
        final ByteArrayOutputStream head = new ByteArrayOutputStream();
        final int limit;
        long total;

        HeadCapture(int limit) {
            this.limit = limit;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (total >= limit) {
                throw new Enough();
            }
            int keep = (int) Math.max(0, Math.min(len, limit - total));
            head.write(b, off, keep);
            total += len;
        }

        byte[] bytes() {
            return head.toByteArray();
        }
    }
}
