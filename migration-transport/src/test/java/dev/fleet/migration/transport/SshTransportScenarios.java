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
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What issue 4 demands of an SSH transport, against the real test sshd on 127.0.0.1. The
 * concrete {@code *IT} classes say which transport.
 */
abstract class SshTransportScenarios {
    static final SshTestEnvironment SSH = SshTestEnvironment.require();

    @TempDir
    Path target;
    @TempDir
    Path work;

    /** The transport under test, with these settings and this fault-injection hook. */
    abstract Transport transport(SshSettings settings, Consumer<String> beforeVerification);

    Transport transport() {
        return transport(SSH.settings(), p -> {});
    }

    TransferRequest request(Path source, String name, Optional<String> sha, OptionalLong limit) {
        return request(SSH.endpoint(), source, name, sha, limit);
    }

    TransferRequest request(Endpoint endpoint, Path source, String name, Optional<String> sha, OptionalLong limit) {
        return new TransferRequest(source, endpoint, target.toString(), name, sha, limit);
    }

    @Nested
    @DisplayName("Large transfers")
    class Large {
        @Test
        @DisplayName("moves a 1 GiB file and the sha256 on the target matches")
        void movesAOneGibibyteFileIntact() throws IOException {
            Path source = Fixtures.file(Fixtures.GIB);
            String sha = Fixtures.sha256(source);

            TransferResult result = transport().transfer(request(source, "big.tar", Optional.of(sha),
                    OptionalLong.empty()), ProgressListener.NONE, new Cancellation());

            assertThat(result.sha256()).contains(sha);
            // result.sha256 was computed by the target itself, on the file now under the final name
            assertThat(Files.size(target.resolve("big.tar"))).isEqualTo(Fixtures.GIB);
        }

        @Test
        @DisplayName("moves a directory of 10,000 small files and every sha256 matches")
        void movesTenThousandSmallFiles() throws IOException {
            Path dir = Fixtures.tenThousandFiles();

            transport().transfer(request(dir, "many", Optional.empty(), OptionalLong.empty()), ProgressListener.NONE,
                    new Cancellation());

            Fixtures.assertSameTree(dir, target.resolve("many"));
        }

        @Test
        @DisplayName("moves a 0-byte file")
        void movesAnEmptyFile() throws IOException {
            Path source = Files.createFile(work.resolve("empty"));

            TransferResult result = transport().transfer(request(source, "empty.tar", Optional.empty(),
                    OptionalLong.empty()), ProgressListener.NONE, new Cancellation());

            assertThat(Files.size(target.resolve("empty.tar"))).isZero();
            assertThat(result.sha256()).contains("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        }
    }

    @Nested
    @DisplayName("A cut transfer")
    class Resuming {
        @Test
        @DisplayName("cut half-way by killing the server's session resumes and sends at most 10% more than the size in total")
        void resumesAfterACutSendingAtMostTenPercentMore() throws Exception {
            long size = 128 * Fixtures.MIB;
            Path source = Fixtures.file(size);
            String sha = Fixtures.sha256(source);
            try (CuttingProxy proxy = new CuttingProxy(SSH.port())) {
                Path knownHosts = SSH.knownHostsForPort(work, proxy.port());
                Transport transport = transport(SSH.settings(knownHosts), p -> {});
                TransferRequest request = request(SSH.endpoint(proxy.port()), source, "cut.tar", Optional.of(sha),
                        OptionalLong.empty());
                proxy.cutAfter(size / 2, clientPort -> ServerSide.killSessionOf(SSH.sshdPid(), SSH.port(), clientPort));

                TransportException cut = catchThrowableOfType(TransportException.class,
                        () -> transport.transfer(request, ProgressListener.NONE, new Cancellation()));
                assertThat(cut).as("the first attempt must fail when its connection is killed").isNotNull();
                assertThat(proxy.wasCut()).isTrue();
                assertThat(target.resolve("cut.tar")).doesNotExist();
                awaitPartial(target, size / 4);
                long firstAttempt = proxy.bytesFromClient();

                proxy.noMoreCuts();
                TransferResult resumed = transport.transfer(request, ProgressListener.NONE, new Cancellation());

                long total = proxy.bytesFromClient();
                assertThat(Fixtures.sha256(target.resolve("cut.tar"))).isEqualTo(sha);
                assertThat(firstAttempt).isGreaterThanOrEqualTo(size / 2);
                assertThat(total - firstAttempt).as("bytes sent by the resumed attempt")
                        .isLessThan(size * 6 / 10);
                assertThat(total).as("bytes sent over the wire in total, both attempts, ssh included")
                        .isLessThanOrEqualTo(size + size / 10);
                assertThat(resumed.bytesSent()).isLessThan(size * 6 / 10);
            }
        }
    }

    @Nested
    @DisplayName("Verification")
    class Verifying {
        @Test
        @DisplayName("a bit flipped in the target file before verification is reported as CHECKSUM_MISMATCH")
        void reportsAFlippedBitAsAChecksumMismatch() throws IOException {
            Path source = Fixtures.file(8 * Fixtures.MIB);
            String sha = Fixtures.sha256(source);
            Transport flipping = transport(SSH.settings(), remoteTemp -> flipOneBit(Path.of(remoteTemp), 4_000_000));

            TransportException e = catchThrowableOfType(TransportException.class, () -> flipping.transfer(
                    request(source, "flipped.tar", Optional.of(sha), OptionalLong.empty()), ProgressListener.NONE,
                    new Cancellation()));

            assertThat(e).isNotNull();
            assertThat(e.reason()).isEqualTo(Reason.CHECKSUM_MISMATCH);
            assertThat(e.getMessage()).contains(sha);
            assertThat(target.resolve("flipped.tar")).doesNotExist();
        }
    }

    @Nested
    @DisplayName("Host keys and login")
    class HostKeysAndLogin {
        @Test
        @DisplayName("an unknown host key is refused with HOST_KEY_UNKNOWN naming the offered fingerprint")
        void refusesAnUnknownHostKey() throws IOException {
            Path source = Fixtures.file(Fixtures.MIB);
            Transport strict = transport(SSH.settings(SSH.emptyKnownHosts(work)), p -> {});

            TransportException e = catchThrowableOfType(TransportException.class, () -> strict.transfer(
                    request(source, "unknown.tar", Optional.empty(), OptionalLong.empty()), ProgressListener.NONE,
                    new Cancellation()));

            assertThat(e).isNotNull();
            assertThat(e.reason()).isEqualTo(Reason.HOST_KEY_UNKNOWN);
            assertThat(e.getMessage()).contains(SSH.hostKeyFingerprint());
            assertThat(target.resolve("unknown.tar")).doesNotExist();
        }

        @Test
        @DisplayName("a changed host key is refused with HOST_KEY_MISMATCH naming the offered fingerprint")
        void refusesAChangedHostKey() throws IOException {
            Path source = Fixtures.file(Fixtures.MIB);
            Transport strict = transport(SSH.settings(SSH.knownHostsWithAnotherKey(work)), p -> {});

            TransportException e = catchThrowableOfType(TransportException.class, () -> strict.transfer(
                    request(source, "changed.tar", Optional.empty(), OptionalLong.empty()), ProgressListener.NONE,
                    new Cancellation()));

            assertThat(e).isNotNull();
            assertThat(e.reason()).isEqualTo(Reason.HOST_KEY_MISMATCH);
            assertThat(e.getMessage()).contains(SSH.hostKeyFingerprint());
            assertThat(target.resolve("changed.tar")).doesNotExist();
        }

        @Test
        @DisplayName("a key the server does not authorise is reported as AUTH_REFUSED")
        void reportsARefusedKey() throws Exception {
            Path source = Fixtures.file(Fixtures.MIB);
            Path stranger = work.resolve("stranger");
            Process p = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger.toString())
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            assertThat(p.waitFor()).isZero();
            Transport refused = transport(new SshSettings(stranger, SSH.knownHosts()), x -> {});

            TransportException e = catchThrowableOfType(TransportException.class, () -> refused.transfer(
                    request(source, "auth.tar", Optional.empty(), OptionalLong.empty()), ProgressListener.NONE,
                    new Cancellation()));

            assertThat(e).isNotNull();
            assertThat(e.reason()).isEqualTo(Reason.AUTH_REFUSED);
        }

        @Test
        @DisplayName("a port nobody listens on is reported as HOST_UNREACHABLE")
        void reportsAnUnreachableHost() throws IOException {
            Path source = Fixtures.file(Fixtures.MIB);
            int closed;
            try (ServerSocket s = new ServerSocket(0)) {
                closed = s.getLocalPort();
            }

            TransportException e = catchThrowableOfType(TransportException.class, () -> transport().transfer(
                    request(SSH.endpoint(closed), source, "nowhere.tar", Optional.empty(), OptionalLong.empty()),
                    ProgressListener.NONE, new Cancellation()));

            assertThat(e).isNotNull();
            assertThat(e.reason()).isEqualTo(Reason.HOST_UNREACHABLE);
            assertThat(e.reason().isTransient()).isTrue();
        }

        @Test
        @DisplayName("a file larger than the target's free space is refused with DISK_FULL before sending")
        void refusesWhenTheTargetDiskIsTooSmall() {
            Path huge = Fixtures.hugeSparseFile(work);

            TransportException e = catchThrowableOfType(TransportException.class, () -> transport().transfer(
                    request(huge, "huge.tar", Optional.empty(), OptionalLong.empty()), ProgressListener.NONE,
                    new Cancellation()));

            assertThat(e).isNotNull();
            assertThat(e.reason()).isEqualTo(Reason.DISK_FULL);
            assertThat(target.resolve("huge.tar")).doesNotExist();
        }
    }

    @Nested
    @DisplayName("Bandwidth limit")
    class Throttling {
        @Test
        @DisplayName("a limit of 20 MiB/s is honoured within ±20% over a 200 MiB transfer")
        void honoursTwentyMebibytesPerSecond() {
            long size = 200 * Fixtures.MIB;
            long limit = 20 * Fixtures.MIB;
            Path source = Fixtures.file(size);
            List<long[]> samples = new CopyOnWriteArrayList<>();
            ProgressListener timing = (Progress p) -> samples.add(new long[] {System.nanoTime(), p.bytesDone()});

            long started = System.nanoTime();
            transport().transfer(request(source, "limited.tar", Optional.of(Fixtures.sha256(source)),
                    OptionalLong.of(limit)), timing, new Cancellation());
            Duration wall = Duration.ofNanos(System.nanoTime() - started);

            long[] first = samples.stream().filter(s -> s[1] > 0).findFirst().orElseThrow();
            long[] last = samples.stream().filter(s -> s[1] >= size).findFirst().orElseThrow();
            double seconds = (last[0] - first[0]) / 1e9;
            double rate = (last[1] - first[1]) / seconds;
            System.out.printf("%s: 200 MiB at a 20 MiB/s limit: %.2f MiB/s while sending, %s wall%n",
                    getClass().getEnclosingClass().getSimpleName(), rate / Fixtures.MIB, wall);
            assertThat(rate).isBetween(limit * 0.8, limit * 1.2);
            // the wall time also holds logins, the target's sha256 and fsync: only its lower bound is tight
            assertThat(wall).isGreaterThanOrEqualTo(Duration.ofMillis((long) (size * 1000.0 / limit / 1.2)));
        }
    }

    static void awaitPartial(Path dir, long atLeast) throws IOException, InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        long lastSize = -1;
        int stable = 0;
        while (System.nanoTime() < until) {
            try (var list = Files.list(dir)) {
                long size = list.filter(p -> p.getFileName().toString().endsWith(".fleet-part"))
                        .mapToLong(p -> p.toFile().length()).max().orElse(-1);
                stable = size >= atLeast && size == lastSize ? stable + 1 : 0;
                lastSize = size;
            }
            if (stable >= 3) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no partial file of at least " + atLeast + " bytes appeared in " + dir
                + " within 20 s (last size " + lastSize + ")");
    }

    static void flipOneBit(Path file, long offset) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0x10);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
