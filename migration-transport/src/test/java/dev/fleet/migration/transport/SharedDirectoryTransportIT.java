package dev.fleet.migration.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fleet.migration.core.Progress;
import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.ProgressListener;
import dev.fleet.migration.core.spi.TransferRequest;
import dev.fleet.migration.core.spi.TransferResult;
import dev.fleet.migration.core.spi.Transport;
import dev.fleet.migration.core.spi.TransportException;
import dev.fleet.migration.core.spi.TransportException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("SharedDirectoryTransport on a plain shared path (kernel NFS does not run here)")
class SharedDirectoryTransportIT {
    private static final Endpoint UNUSED = new Endpoint("127.0.0.1", 22, "fleet");

    @TempDir
    Path shared;
    @TempDir
    Path work;

    TransferRequest request(Path source, String name, Optional<String> sha, OptionalLong limit) {
        return new TransferRequest(source, UNUSED, shared.toString(), name, sha, limit);
    }

    @Nested
    @DisplayName("Large transfers")
    class Large {
        @Test
        @DisplayName("moves a 1 GiB file and the sha256 matches")
        void movesAOneGibibyteFileIntact() throws IOException {
            Path source = Fixtures.file(Fixtures.GIB);
            String sha = Fixtures.sha256(source);

            TransferResult result = SharedDirectoryTransport.builder().build().transfer(request(source, "big.tar",
                    Optional.of(sha), OptionalLong.empty()), ProgressListener.NONE, new Cancellation());

            assertThat(result.sha256()).contains(sha);
            assertThat(result.bytesSent()).isEqualTo(Fixtures.GIB);
            assertThat(Files.size(shared.resolve("big.tar"))).isEqualTo(Fixtures.GIB);
        }

        @Test
        @DisplayName("moves a directory of 10,000 small files and every sha256 matches")
        void movesTenThousandSmallFiles() throws IOException {
            Path dir = Fixtures.tenThousandFiles();

            SharedDirectoryTransport.builder().build().transfer(request(dir, "many", Optional.empty(),
                    OptionalLong.empty()), ProgressListener.NONE, new Cancellation());

            Fixtures.assertSameTree(dir, shared.resolve("many"));
        }
    }

    @Nested
    @DisplayName("No copy when the archive directory itself is shared")
    class NoCopy {
        @Test
        @DisplayName("a source that already is the final file is verified and not copied")
        void doesNotCopyAFileThatIsAlreadyInPlace() throws IOException {
            Path inPlace = Files.copy(Fixtures.file(4 * Fixtures.MIB), shared.resolve("here.tar"));

            TransferResult result = SharedDirectoryTransport.builder().build().transfer(request(inPlace, "here.tar",
                    Optional.empty(), OptionalLong.empty()), ProgressListener.NONE, new Cancellation());

            assertThat(result.bytesSent()).isZero();
            assertThat(result.sha256()).contains(Fixtures.sha256(inPlace));
        }

        @Test
        @DisplayName("a source in the shared directory under another name is linked, not copied")
        void linksAFileInTheSameDirectory() throws IOException {
            Path other = Files.copy(Fixtures.file(4 * Fixtures.MIB), shared.resolve("snapshot.tar"));

            TransferResult result = SharedDirectoryTransport.builder().build().transfer(request(other, "final.tar",
                    Optional.empty(), OptionalLong.empty()), ProgressListener.NONE, new Cancellation());

            assertThat(result.bytesSent()).isZero();
            assertThat(Files.isSameFile(other, shared.resolve("final.tar"))).isTrue();
        }

        @Test
        @DisplayName("a mount maps the target node's directory to where it is mounted here")
        void followsAMount() throws IOException {
            Path source = Fixtures.file(Fixtures.MIB);
            Transport mounted = SharedDirectoryTransport.builder().mount("/var/lib/fleet/migrations", shared).build();

            mounted.transfer(new TransferRequest(source, UNUSED, "/var/lib/fleet/migrations", "m.tar",
                    Optional.empty(), OptionalLong.empty()), ProgressListener.NONE, new Cancellation());

            assertThat(Fixtures.sha256(shared.resolve("m.tar"))).isEqualTo(Fixtures.sha256(source));
        }
    }

    @Nested
    @DisplayName("A cut copy")
    class Resuming {
        @Test
        @DisplayName("resumes from what an earlier attempt wrote and copies only the rest")
        void resumesFromAPartialCopy() throws IOException {
            long size = 128 * Fixtures.MIB;
            Path source = Fixtures.file(size);
            // what a copy killed half-way leaves behind
            try (InputStream in = Files.newInputStream(source);
                 OutputStream out = Files.newOutputStream(shared.resolve(".cut.tar.fleet-part"))) {
                out.write(in.readNBytes((int) (size / 2)));
            }

            TransferResult result = SharedDirectoryTransport.builder().build().transfer(request(source, "cut.tar",
                    Optional.of(Fixtures.sha256(source)), OptionalLong.empty()), ProgressListener.NONE,
                    new Cancellation());

            assertThat(result.bytesSent()).isEqualTo(size / 2);
            assertThat(size / 2 + result.bytesSent()).isLessThanOrEqualTo(size + size / 10);
            assertThat(Fixtures.sha256(shared.resolve("cut.tar"))).isEqualTo(Fixtures.sha256(source));
        }
    }

    @Nested
    @DisplayName("Verification and failures")
    class Failures {
        @Test
        @DisplayName("a bit flipped in the target file before verification is reported as CHECKSUM_MISMATCH")
        void reportsAFlippedBitAsAChecksumMismatch() {
            Path source = Fixtures.file(8 * Fixtures.MIB);
            Transport flipping = SharedDirectoryTransport.builder()
                    .beforeVerification(p -> SshTransportScenarios.flipOneBit(Path.of(p), 12345)).build();

            TransportException e = catchThrowableOfType(TransportException.class, () -> flipping.transfer(
                    request(source, "flipped.tar", Optional.of(Fixtures.sha256(source)), OptionalLong.empty()),
                    ProgressListener.NONE, new Cancellation()));

            assertThat(e).isNotNull();
            assertThat(e.reason()).isEqualTo(Reason.CHECKSUM_MISMATCH);
            assertThat(shared.resolve("flipped.tar")).doesNotExist();
        }

        @Test
        @DisplayName("a file larger than the free space is refused with DISK_FULL before copying")
        void refusesWhenTheDiskIsTooSmall() {
            Path huge = Fixtures.hugeSparseFile(work);

            TransportException e = catchThrowableOfType(TransportException.class, () -> SharedDirectoryTransport
                    .builder().build().transfer(request(huge, "huge.tar", Optional.empty(), OptionalLong.empty()),
                            ProgressListener.NONE, new Cancellation()));

            assertThat(e).isNotNull();
            assertThat(e.reason()).isEqualTo(Reason.DISK_FULL);
        }

        @Test
        @DisplayName("a limit of 20 MiB/s is honoured within ±20% over a 200 MiB copy")
        void honoursTwentyMebibytesPerSecond() {
            long size = 200 * Fixtures.MIB;
            long limit = 20 * Fixtures.MIB;
            Path source = Fixtures.file(size);
            List<long[]> samples = new CopyOnWriteArrayList<>();
            ProgressListener timing = (Progress p) -> samples.add(new long[] {System.nanoTime(), p.bytesDone()});

            long started = System.nanoTime();
            SharedDirectoryTransport.builder().build().transfer(request(source, "limited.tar", Optional.empty(),
                    OptionalLong.of(limit)), timing, new Cancellation());
            double wallSeconds = (System.nanoTime() - started) / 1e9;

            double rate = size / wallSeconds;
            System.out.printf("SharedDirectoryTransport: 200 MiB at a 20 MiB/s limit: %.2f MiB/s%n", rate / Fixtures.MIB);
            assertThat(rate).isBetween(limit * 0.8, limit * 1.2);
        }
    }
}
