package dev.fleet.migration.docker.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The sha256s are computed on a second thread from the buffers that are written or read: they
 * must be exactly the sha256 of the bytes on disk, at every buffer boundary, and a tampered
 * archive must still be refused whether the whole-file sha256 or the per-entry ones do the check.
 */
@DisplayName("Archive sha256s are hashed while streaming, in one pass, and still catch every change")
class ArchiveStreamingTest {

    @TempDir
    Path tmp;

    static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static Manifest manifest() {
        return new Manifest(Manifest.FORMAT_VERSION, Manifest.KIND_SNAPSHOT, "m-s", "web", List.of(),
                List.of(new Manifest.VolumeSpec("data", "local", Map.of())));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 511, 512, HashPipe.BUFFER_SIZE - 1, HashPipe.BUFFER_SIZE,
            HashPipe.BUFFER_SIZE + 1, 5 * HashPipe.BUFFER_SIZE + 12345})
    void writerReportsTheSha256AndSizeOfTheFileOnDisk(int imageSize) throws IOException {
        byte[] image = random(imageSize, imageSize);
        Path source = Files.createDirectories(tmp.resolve("source"));
        Files.write(source.resolve("blob"), random(3 * HashPipe.BUFFER_SIZE + 7, 2));
        Path archive = tmp.resolve("m-s.tar");
        dev.fleet.migration.core.ArchiveInfo info;
        ArchiveIndex.Entry imageEntry;
        // a chunk of 1 MiB + 512: chunk and hash-buffer boundaries fall in different places
        try (ArchiveWriter w = new ArchiveWriter(archive, manifest(), HashPipe.BUFFER_SIZE + 512)) {
            imageEntry = w.add(Manifest.IMAGE_ENTRY, out -> {
                // small and odd-sized writes across buffer boundaries
                for (int off = 0; off < image.length; ) {
                    int n = Math.min(image.length - off, 1 + off % 70_001);
                    out.write(image, off, n);
                    off += n;
                }
            });
            w.add(Manifest.entryFor("data"), out -> VolumeTarWriter.of(source).write(out));
            info = w.finish();
        }
        assertThat(tmp.resolve("m-s.tar.tmp")).doesNotExist();
        assertThat(info.size()).isEqualTo(Files.size(archive)).isEqualTo(Files.size(archive) / 10240 * 10240);
        assertThat(info.sha256()).isEqualTo(Digests.ofFile(archive));
        assertThat(imageEntry.size()).isEqualTo(imageSize);
        long chunks = Math.max(1, (imageSize + HashPipe.BUFFER_SIZE + 511) / (HashPipe.BUFFER_SIZE + 512));
        assertThat(imageEntry.chunks()).isEqualTo(chunks);

        // a plain tar reader sees the manifest, then the image's chunks, which concatenate to the image
        try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(archive))) {
            assertThat(in.getNextEntry().getName()).isEqualTo(Manifest.NAME);
            java.io.ByteArrayOutputStream joined = new java.io.ByteArrayOutputStream();
            TarArchiveEntry e = in.getNextEntry();
            for (long i = 0; i < chunks; i++) {
                assertThat(e.getName()).isEqualTo(String.format("image.tar/%08d", i));
                joined.write(in.readAllBytes());
                e = in.getNextEntry();
            }
            assertThat(hex(joined.toByteArray())).isEqualTo(hex(image));
            assertThat(e.getName()).startsWith("volumes/data.tar/");
            while (e.getName().startsWith("volumes/")) {
                e = in.getNextEntry();
            }
            assertThat(e.getName()).isEqualTo(Manifest.INDEX);
            assertThat(in.getNextEntry()).isNull();
        }

        // both ways of reading verify it and extract the same tree
        Path staging = tmp.resolve("staging");
        assertThat(ArchiveReader.extract(archive, Optional.of(info.sha256()), staging, n -> {}).sha256())
                .isEqualTo(info.sha256());
        assertThat(Files.readAllBytes(staging.resolve(Manifest.IMAGE_ENTRY))).isEqualTo(image);
        assertThat(TreeFingerprint.of(staging.resolve("volumes/data"))).isEqualTo(TreeFingerprint.of(source));
        assertThat(ArchiveReader.verify(archive, Optional.empty()).sha256()).isEqualTo(info.sha256());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, HashPipe.BUFFER_SIZE, HashPipe.BUFFER_SIZE + 1, 9 * HashPipe.BUFFER_SIZE + 3})
    void readerHashesExactlyTheFile(int size) throws IOException {
        Path file = Files.write(tmp.resolve("f"), random(size, size + 1));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
             HashingChannelInput in = new HashingChannelInput(ch, "test")) {
            // read part of it in odd steps, skip a little, and leave the rest to finish()
            byte[] buf = new byte[4097];
            long read = 0;
            while (read < size / 2) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, size / 2 - read));
                if (n < 0) {
                    break;
                }
                read += n;
            }
            in.skip(1000);
            long consumed = in.consumed();
            assertThat(consumed).isEqualTo(Math.min(size, read + 1000));
            // a mark is the sha256 of exactly the bytes consumed before it, wherever it falls in a buffer
            assertThat(in.mark()).isEqualTo(hex(java.util.Arrays.copyOf(Files.readAllBytes(file), (int) consumed)));
            assertThat(in.read()).isEqualTo(size > consumed ? Files.readAllBytes(file)[(int) consumed] & 0xff : -1);
            assertThat(in.finish()).isEqualTo(Digests.ofFile(file));
        }
    }

    Path goodArchive() throws IOException {
        Path source = Files.createDirectories(tmp.resolve("source"));
        Files.writeString(source.resolve("data.txt"), "AAAAAAAAAAAAAAAA");
        Path archive = tmp.resolve("m-s.tar");
        try (ArchiveWriter w = new ArchiveWriter(archive, manifest())) {
            w.add(Manifest.entryFor("data"), out -> VolumeTarWriter.of(source).write(out));
            w.finish();
        }
        return archive;
    }

    void assertRefusedBoth(Path archive, String expectedSha, String whole, String perEntry) throws IOException {
        Path staging = tmp.resolve("staging");
        assertThatThrownBy(() -> ArchiveReader.extract(archive, Optional.of(expectedSha), staging, n -> {}))
                .isInstanceOf(ArchiveException.class).hasMessageContaining(whole);
        assertThat(staging).doesNotExist();
        assertThatThrownBy(() -> ArchiveReader.extract(archive, Optional.empty(), staging, n -> {}))
                .isInstanceOf(ArchiveException.class).hasMessageContaining(perEntry);
        assertThat(staging).doesNotExist();
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactlyInAnyOrder("source", "m-s.tar");
        }
    }

    @Test
    void aChangedEntryIsRefusedByTheWholeFileSha256AndByItsOwn() throws IOException {
        Path archive = goodArchive();
        String sha = Digests.ofFile(archive);
        byte[] all = Files.readAllBytes(archive);
        int at = new String(all, StandardCharsets.ISO_8859_1).indexOf("AAAAAAAAAAAAAAAA");
        all[at] = 'B';
        Files.write(archive, all);
        assertRefusedBoth(archive, sha, "index.json says", "index.json says");
    }

    @Test
    void aManifestRewrittenToMatchAChangedEntryIsRefusedByTheWholeFileSha256() throws IOException {
        Path archive = goodArchive();
        String sha = Digests.ofFile(archive);
        // rebuild the archive around a changed volume with a consistent manifest: only the
        // whole-file sha256 the source recorded can tell
        Path source = tmp.resolve("source");
        Files.writeString(source.resolve("data.txt"), "BBBBBBBBBBBBBBBB");
        Files.delete(archive);
        try (ArchiveWriter w = new ArchiveWriter(archive, manifest())) {
            w.add(Manifest.entryFor("data"), out -> VolumeTarWriter.of(source).write(out));
            w.finish();
        }
        Path staging = tmp.resolve("staging");
        assertThatThrownBy(() -> ArchiveReader.extract(archive, Optional.of(sha), staging, n -> {}))
                .isInstanceOf(ArchiveException.class).hasMessageContaining("its sha256 is");
        assertThat(staging).doesNotExist();
    }

    @Test
    void aTruncatedArchiveIsRefusedEitherWay() throws IOException {
        Path archive = goodArchive();
        String sha = Digests.ofFile(archive);
        byte[] all = Files.readAllBytes(archive);
        Files.write(archive, java.util.Arrays.copyOf(all, 1536)); // manifest header and part of it
        assertRefusedBoth(archive, sha, "refused", "refused");
    }

    @Test
    void extractionWritesDataRunsAndLeavesZeroBlocksAsHoles() throws IOException {
        Path source = Files.createDirectories(tmp.resolve("source"));
        byte[] content = new byte[3 * 256 * 1024 + 5000];
        Random r = new Random(3);
        for (int block = 0; block * 4096 < content.length; block++) {
            if (block % 3 != 1) { // data, hole, data, data, hole, ... and a partial last block
                for (int i = block * 4096; i < Math.min(content.length, (block + 1) * 4096); i++) {
                    content[i] = (byte) (1 + r.nextInt(255));
                }
            }
        }
        Files.write(source.resolve("mixed"), content);
        byte[] trailingHole = java.util.Arrays.copyOf(content, content.length + 3 * 4096);
        Files.write(source.resolve("trailing-hole"), trailingHole);
        Path archive = tmp.resolve("m-s.tar");
        dev.fleet.migration.core.ArchiveInfo info;
        try (ArchiveWriter w = new ArchiveWriter(archive, manifest())) {
            w.add(Manifest.entryFor("data"), out -> VolumeTarWriter.of(source).write(out));
            info = w.finish();
        }
        Path staging = tmp.resolve("staging");
        ArchiveReader.extract(archive, Optional.of(info.sha256()), staging, n -> {});
        assertThat(Files.readAllBytes(staging.resolve("volumes/data/mixed"))).isEqualTo(content);
        assertThat(Files.readAllBytes(staging.resolve("volumes/data/trailing-hole"))).isEqualTo(trailingHole);
    }

    static String hex(byte[] b) {
        var d = Digests.sha256();
        d.update(b);
        return Digests.hex(d);
    }
}
