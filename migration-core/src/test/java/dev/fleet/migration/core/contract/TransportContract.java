package dev.fleet.migration.core.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.Progress;
import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.ProgressListener;
import dev.fleet.migration.core.spi.TransferRequest;
import dev.fleet.migration.core.spi.TransferResult;
import dev.fleet.migration.core.spi.Transport;
import dev.fleet.migration.core.spi.TransportException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The compatibility kit every {@link Transport} passes with a short subclass. It runs on one
 * machine: the target directory is a local directory that the transport reaches as the target
 * node's directory (over SSH to 127.0.0.1, or as a shared path). It stays fast (a few MiB);
 * the 1 GiB and 10,000-file cases belong to each implementation's integration tests.
 */
public abstract class TransportContract {
    private static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /** The transport under test; may be the same instance for every test. */
    protected abstract Transport transport();

    /** The target node's endpoint (127.0.0.1 in tests; ignored by a shared-directory transport). */
    protected abstract Endpoint target();

    /**
     * A directory, empty when each test starts, that is the target directory both as the
     * transport's target sees it and as this test reads it. Its path must match the target
     * directory rule of {@link TransferRequest}.
     */
    protected abstract Path targetDirectory();

    /** Where the kit writes its source files; a fresh directory per test. */
    @TempDir
    protected Path sources;

    protected TransferRequest request(Path source, String name, Optional<String> sha256, OptionalLong limit) {
        return new TransferRequest(source, target(), targetDirectory().toString(), name, sha256, limit);
    }

    protected TransferRequest request(Path source, String name) {
        return request(source, name, Optional.empty(), OptionalLong.empty());
    }

    @Nested
    @DisplayName("A transport moving one file")
    class MovingFiles {

        @Test
        @DisplayName("moves a 0-byte file and reports the sha256 of nothing")
        void movesAnEmptyFile() throws IOException {
            Path source = Files.createFile(sources.resolve("empty.tar"));

            TransferResult result = transport().transfer(request(source, "empty.tar", Optional.of(EMPTY_SHA256),
                    OptionalLong.empty()), ProgressListener.NONE, new Cancellation());

            Path landed = targetDirectory().resolve("empty.tar");
            assertThat(landed).exists().isRegularFile();
            assertThat(Files.size(landed)).isZero();
            assertThat(result.size()).isZero();
            assertThat(result.sha256()).contains(EMPTY_SHA256);
        }

        @Test
        @DisplayName("moves a few MiB intact, and the sha256 computed on the target is the source's")
        void movesAFileIntactAndReportsItsSha256() throws IOException {
            Path source = randomFile(sources.resolve("app.tar"), 5 * 1024 * 1024 + 123, 1);
            String sha = sha256(source);

            TransferResult result = transport().transfer(request(source, "app.tar", Optional.of(sha),
                    OptionalLong.empty()), ProgressListener.NONE, new Cancellation());

            Path landed = targetDirectory().resolve("app.tar");
            assertThat(sha256(landed)).isEqualTo(sha);
            assertThat(result.sha256()).contains(sha);
            assertThat(result.size()).isEqualTo(Files.size(source));
            assertThat(result.remotePath()).isEqualTo(landed.toString());
            assertThat(result.bytesSent()).isPositive();
        }

        @Test
        @DisplayName("verifies against the source's own sha256 when the request names none")
        void verifiesWithoutAnExpectedSha256() throws IOException {
            Path source = randomFile(sources.resolve("nosha.tar"), 300_000, 2);

            TransferResult result = transport().transfer(request(source, "nosha.tar"), ProgressListener.NONE,
                    new Cancellation());

            assertThat(result.sha256()).contains(sha256(source));
            assertThat(sha256(targetDirectory().resolve("nosha.tar"))).isEqualTo(sha256(source));
        }

        @Test
        @DisplayName("replaces an earlier copy under the same name when sent again")
        void replacesAnEarlierCopyWhenSentAgain() throws IOException {
            Path first = randomFile(sources.resolve("first.tar"), 100_000, 3);
            Path second = randomFile(sources.resolve("second.tar"), 200_000, 4);
            transport().transfer(request(first, "same.tar"), ProgressListener.NONE, new Cancellation());

            transport().transfer(request(second, "same.tar"), ProgressListener.NONE, new Cancellation());

            assertThat(sha256(targetDirectory().resolve("same.tar"))).isEqualTo(sha256(second));
        }

        @Test
        @DisplayName("leaves only the final name behind: no temp file survives a success")
        void leavesOnlyTheFinalName() throws IOException {
            Path source = randomFile(sources.resolve("clean.tar"), 50_000, 5);

            transport().transfer(request(source, "clean.tar"), ProgressListener.NONE, new Cancellation());

            try (Stream<Path> listed = Files.list(targetDirectory())) {
                assertThat(listed.map(p -> p.getFileName().toString())).containsExactly("clean.tar");
            }
        }
    }

    @Nested
    @DisplayName("A transport moving a directory")
    class MovingDirectories {

        @Test
        @DisplayName("moves every file of a nested directory intact")
        void movesEveryFileOfANestedDirectory() throws IOException {
            Path dir = Files.createDirectories(sources.resolve("volume"));
            List<Path> files = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                Path sub = Files.createDirectories(dir.resolve("d" + (i % 4)));
                files.add(randomFile(sub.resolve("f" + i + ".bin"), i * 97L, 100 + i));
            }
            Files.createDirectories(dir.resolve("empty-dir"));

            transport().transfer(request(dir, "volume"), ProgressListener.NONE, new Cancellation());

            Path landed = targetDirectory().resolve("volume");
            for (Path f : files) {
                assertThat(sha256(landed.resolve(dir.relativize(f)))).isEqualTo(sha256(f));
            }
            assertThat(landed.resolve("empty-dir")).isDirectory();
        }
    }

    @Nested
    @DisplayName("Verification on the target")
    class Verifying {

        @Test
        @DisplayName("refuses with CHECKSUM_MISMATCH when the target's sha256 differs, and keeps no file under the final name")
        void reportsAChecksumMismatchAndKeepsNothingUnderTheFinalName() throws IOException {
            Path source = randomFile(sources.resolve("bad.tar"), 100_000, 6);
            String wrong = "0".repeat(64);

            TransportException e = catchThrowableOfType(TransportException.class, () -> transport().transfer(
                    request(source, "bad.tar", Optional.of(wrong), OptionalLong.empty()), ProgressListener.NONE,
                    new Cancellation()));

            assertThat(e).isNotNull();
            assertThat(e.reason()).isEqualTo(TransportException.Reason.CHECKSUM_MISMATCH);
            assertThat(e.getMessage()).contains(wrong).contains(sha256(source));
            assertThat(targetDirectory().resolve("bad.tar")).doesNotExist();
        }
    }

    @Nested
    @DisplayName("Cancellation")
    class Cancelling {

        @Test
        @DisplayName("a transfer cancelled before it starts fails with CANCELLED and writes nothing under the final name")
        void cancelledBeforeStartLeavesNothing() throws IOException {
            Path source = randomFile(sources.resolve("never.tar"), 10_000, 7);
            Cancellation cancellation = new Cancellation();
            cancellation.cancel();

            assertThatThrownBy(() -> transport().transfer(request(source, "never.tar"), ProgressListener.NONE,
                    cancellation))
                    .isInstanceOfSatisfying(TransportException.class,
                            e -> assertThat(e.reason()).isEqualTo(TransportException.Reason.CANCELLED));
            assertThat(targetDirectory().resolve("never.tar")).doesNotExist();
        }

        @Test
        @DisplayName("a transfer cancelled half-way fails with CANCELLED and leaves no file under the final name")
        void cancelledMidwayLeavesNothingUnderTheFinalName() throws IOException {
            Path source = randomFile(sources.resolve("slow.tar"), 6 * 1024 * 1024, 8);
            Cancellation cancellation = new Cancellation();
            // 2 MiB/s: about three seconds, cancelled at the first progress that shows bytes moved
            ProgressListener cancelOnFirstBytes = p -> {
                if (p.bytesDone() > 0) {
                    cancellation.cancel();
                }
            };

            assertThatThrownBy(() -> transport().transfer(request(source, "slow.tar", Optional.empty(),
                    OptionalLong.of(2L * 1024 * 1024)), cancelOnFirstBytes, cancellation))
                    .isInstanceOfSatisfying(TransportException.class,
                            e -> assertThat(e.reason()).isEqualTo(TransportException.Reason.CANCELLED));
            assertThat(targetDirectory().resolve("slow.tar")).doesNotExist();
        }
    }

    @Nested
    @DisplayName("Progress")
    class Reporting {

        @Test
        @DisplayName("is reported with the total, never goes backwards, and ends at the total")
        void reportsMonotonicProgressEndingAtTheTotal() throws IOException {
            long size = 4L * 1024 * 1024;
            Path source = randomFile(sources.resolve("progress.tar"), size, 9);
            List<Progress> seen = new CopyOnWriteArrayList<>();

            transport().transfer(request(source, "progress.tar", Optional.empty(), OptionalLong.of(4L * 1024 * 1024)),
                    seen::add, new Cancellation());

            assertThat(seen).isNotEmpty();
            assertThat(seen).allSatisfy(p -> assertThat(p.bytesTotal()).isEqualTo(size));
            for (int i = 1; i < seen.size(); i++) {
                assertThat(seen.get(i).bytesDone()).isGreaterThanOrEqualTo(seen.get(i - 1).bytesDone());
            }
            assertThat(seen.get(seen.size() - 1).bytesDone()).isEqualTo(size);
            assertThat(seen.get(seen.size() - 1).eta()).contains(java.time.Duration.ZERO);
        }
    }

    @Nested
    @DisplayName("Hostile names")
    class RejectingNames {

        @ParameterizedTest(name = "name {0}")
        @ValueSource(strings = {"-rf", "--rsh=sh", "-e", "a b", "a'b", "a\"b", "a;b", "$(reboot)", "a`id`",
            "a\nb", "a\0b", "a|b", "a&b", "a>b", "../x", "a/b", ".hidden", ""})
        @DisplayName("a file name that could act as an option or shell syntax is rejected before any process starts")
        void rejectsAHostileNameBeforeAnyProcessStarts(String hostile) throws IOException {
            Path source = randomFile(sources.resolve("ok.tar"), 10, 10);
            long childrenBefore = ProcessHandle.current().descendants().count();

            assertThatThrownBy(() -> transport().transfer(request(source, hostile), ProgressListener.NONE,
                    new Cancellation()))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessageContaining("name");

            assertThat(ProcessHandle.current().descendants().count()).isLessThanOrEqualTo(childrenBefore);
            try (Stream<Path> listed = Files.list(targetDirectory())) {
                assertThat(listed).isEmpty();
            }
        }

        @ParameterizedTest(name = "directory {0}")
        @ValueSource(strings = {"relative/dir", "-x", "/tmp/a b", "/tmp/$(id)", "/tmp/a;b", "/tmp/../etc",
            "/tmp/a\nb", "/tmp/a\0b", "/tmp/'q'"})
        @DisplayName("a target directory that is relative, climbs up, or holds shell syntax is rejected")
        void rejectsAHostileTargetDirectory(String hostile) throws IOException {
            Path source = randomFile(sources.resolve("ok.tar"), 10, 11);

            assertThatThrownBy(() -> transport().transfer(new TransferRequest(source, target(), hostile, "ok.tar",
                    Optional.empty(), OptionalLong.empty()), ProgressListener.NONE, new Cancellation()))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessageContaining("targetDirectory");
        }

        @ParameterizedTest(name = "host {0}")
        @ValueSource(strings = {"-oProxyCommand=sh", "host name", "a;b", "$(id)", "127.0.0.1\n"})
        @DisplayName("an endpoint host that could act as an option or shell syntax is rejected")
        void rejectsAHostileHost(String hostile) {
            assertThatThrownBy(() -> new Endpoint(hostile, 22, "root"))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessageContaining("endpoint.host");
        }

        @ParameterizedTest(name = "user {0}")
        @ValueSource(strings = {"-l", "root@evil", "a b", "$(id)", "r;oot"})
        @DisplayName("an endpoint user that could act as an option or shell syntax is rejected")
        void rejectsAHostileUser(String hostile) {
            assertThatThrownBy(() -> new Endpoint("127.0.0.1", 22, hostile))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessageContaining("endpoint.user");
        }
    }

    // ---- helpers the subclasses may use too ----

    /** Writes {@code size} reproducible pseudo-random bytes. */
    public static Path randomFile(Path path, long size, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] buffer = new byte[1 << 16];
        try (OutputStream out = Files.newOutputStream(path)) {
            long left = size;
            while (left > 0) {
                for (int i = 0; i < buffer.length; i += 8) {
                    long v = random.nextLong();
                    for (int j = 0; j < 8; j++) {
                        buffer[i + j] = (byte) (v >>> (8 * j));
                    }
                }
                int n = (int) Math.min(buffer.length, left);
                out.write(buffer, 0, n);
                left -= n;
            }
        }
        return path;
    }

    public static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buffer = new byte[1 << 20];
        try (var in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) >= 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
