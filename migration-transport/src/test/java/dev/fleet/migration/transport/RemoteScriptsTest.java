package dev.fleet.migration.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.contract.TransportContract;
import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.TransportException;
import dev.fleet.migration.core.spi.TransportException.Reason;
import dev.fleet.migration.transport.internal.RemoteCommand;
import dev.fleet.migration.transport.internal.RemoteDialog;
import dev.fleet.migration.transport.internal.RemoteScripts;
import dev.fleet.migration.transport.internal.RsyncVersion;
import dev.fleet.migration.transport.internal.Spawned;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shell scripts the SSH transports run on the target, run here by the local {@code sh}
 * exactly as the target's login shell would receive them (one quoted command string).
 */
@DisplayName("The scripts the target runs")
class RemoteScriptsTest {
    @TempDir
    Path dir;

    /** Runs a rendered remote command the way sshd does: the login shell gets one string. */
    private static RemoteDialog start(RemoteCommand command) {
        return Spawned.dialog(List.of("sh", "-c", command.render()), new Cancellation());
    }

    private RemoteDialog verification(Path temp, Path finalPath, RemoteHash hash) {
        return start(RemoteDialog.command(temp.toString(), finalPath.toString(), dir.toString(),
                hash.command(temp.toString())));
    }

    @Nested
    @DisplayName("Verify, then commit on our word")
    class Dialog {
        @Test
        @DisplayName("prints the sha256 of the file as read back, and renames it only on 'commit'")
        void printsTheDigestAndRenamesOnCommit() throws Exception {
            Path temp = TransportContract.randomFile(dir.resolve(".a.tar.fleet-part"), 300_000, 1);
            String sha = TransportContract.sha256(temp);
            Path finalPath = dir.resolve("a.tar");

            try (RemoteDialog dialog = verification(temp, finalPath, RemoteHash.AUTO)) {
                assertThat(dialog.awaitDigest("test", new Cancellation(), Duration.ofMinutes(1))).isEqualTo(sha);
                assertThat(finalPath).doesNotExist();
                dialog.commit("test", Duration.ofMinutes(1));
            }

            assertThat(finalPath).exists();
            assertThat(temp).doesNotExist();
            assertThat(TransportContract.sha256(finalPath)).isEqualTo(sha);
        }

        @Test
        @DisplayName("opened before the bytes arrive, it waits: what it hashes is the file as it is when we say verify")
        void hashesOnlyOnceToldTheBytesArrived() throws Exception {
            Path temp = dir.resolve(".late.tar.fleet-part");
            Path finalPath = dir.resolve("late.tar");

            try (RemoteDialog dialog = verification(temp, finalPath, RemoteHash.AUTO)) {
                Thread.sleep(300); // the session is up and waiting; the file does not exist yet
                TransportContract.randomFile(temp, 200_000, 6);
                assertThat(dialog.awaitDigest("test", new Cancellation(), Duration.ofMinutes(1)))
                        .isEqualTo(TransportContract.sha256(temp));
            }

            assertThat(finalPath).doesNotExist();
        }

        @Test
        @DisplayName("renames nothing when we hang up without answering (a cancelled or crashed transfer)")
        void renamesNothingWhenTheCallerGoesAway() throws Exception {
            Path temp = TransportContract.randomFile(dir.resolve(".b.tar.fleet-part"), 10_000, 2);
            Path finalPath = dir.resolve("b.tar");

            RemoteDialog dialog = verification(temp, finalPath, RemoteHash.SHA256SUM);
            dialog.awaitDigest("test", new Cancellation(), Duration.ofMinutes(1));
            dialog.close();
            Thread.sleep(300);

            assertThat(finalPath).doesNotExist();
            assertThat(temp).exists();
        }

        @Test
        @DisplayName("a cancellation while hashing ends with CANCELLED and renames nothing")
        void aCancellationWhileHashingRenamesNothing() throws Exception {
            Path temp = TransportContract.randomFile(dir.resolve(".c.tar.fleet-part"), 10_000, 3);
            Path finalPath = dir.resolve("c.tar");
            Cancellation cancellation = new Cancellation();
            cancellation.cancel();

            RemoteDialog dialog = verification(temp, finalPath, RemoteHash.OPENSSL);
            assertThatThrownBy(() -> dialog.awaitDigest("test", cancellation, Duration.ofMinutes(1)))
                    .isInstanceOfSatisfying(TransportException.class,
                            e -> assertThat(e.reason()).isEqualTo(Reason.CANCELLED));
            Thread.sleep(300);

            assertThat(finalPath).doesNotExist();
        }

        @Test
        @DisplayName("'discard' removes the temp file")
        void discardRemovesTheTempFile() throws Exception {
            Path temp = TransportContract.randomFile(dir.resolve(".d.tar.fleet-part"), 10_000, 4);

            try (RemoteDialog dialog = verification(temp, dir.resolve("d.tar"), RemoteHash.AUTO)) {
                dialog.awaitDigest("test", new Cancellation(), Duration.ofMinutes(1));
                dialog.discard("test", Duration.ofMinutes(1));
            }

            assertThat(temp).doesNotExist();
            assertThat(dir.resolve("d.tar")).doesNotExist();
        }

        @Test
        @DisplayName("a temp file that is not there fails with the hash program's message, not a digest")
        void aMissingFileFailsWithTheMessage() {
            Path temp = dir.resolve(".missing.fleet-part");

            RemoteDialog dialog = verification(temp, dir.resolve("missing"), RemoteHash.SHA256SUM);
            assertThatThrownBy(() -> dialog.awaitDigest("verifying", new Cancellation(), Duration.ofMinutes(1)))
                    .isInstanceOfSatisfying(TransportException.class, e -> {
                        assertThat(e.reason()).isEqualTo(Reason.IO);
                        assertThat(e.getMessage()).contains("No such file");
                    });
        }

        @Test
        @DisplayName("a path with spaces, quotes and $( ) reaches the script as data, never as shell syntax")
        void hostilePathsStayData() throws Exception {
            Path odd = Files.createDirectories(dir.resolve("a b'c$(touch pwned)"));
            Path temp = TransportContract.randomFile(odd.resolve(".e.fleet-part"), 1000, 5);

            try (RemoteDialog dialog = start(RemoteDialog.command(temp.toString(), odd.resolve("e").toString(),
                    odd.toString(), RemoteHash.AUTO.command(temp.toString())))) {
                assertThat(dialog.awaitDigest("test", new Cancellation(), Duration.ofMinutes(1)))
                        .isEqualTo(TransportContract.sha256(temp));
                dialog.commit("test", Duration.ofMinutes(1));
            }

            assertThat(odd.resolve("e")).exists();
            assertThat(Path.of("pwned")).doesNotExist();
            assertThat(dir.resolve("pwned")).doesNotExist();
        }
    }

    @Nested
    @DisplayName("The preflight in front of the rsync server")
    class Preflight {
        private List<String> argv(Path target, long needed, RsyncVersion minimum) {
            // what the target's shell receives: the --rsync-path value followed by rsync's own arguments
            List<String> argv = new ArrayList<>(List.of("sh", "-c",
                    RemoteScripts.rsyncPreflight(target.toString(), needed, minimum) + " --version"));
            return argv;
        }

        @Test
        @DisplayName("creates the directory and becomes rsync when all is well")
        void createsTheDirectoryAndExecsRsync() {
            Path target = dir.resolve("new/dir");

            Spawned.Exit exit = Spawned.run(argv(target, 1, RsyncVersion.MINIMUM), r -> {}, true, new Cancellation(),
                    Duration.ofMinutes(1));

            assertThat(exit.code()).isZero();
            assertThat(exit.stdout()).contains("rsync", "version");
            assertThat(target).isDirectory();
        }

        @Test
        @DisplayName("refuses an rsync older than the minimum, naming its version, before the server starts")
        void refusesAnOldRsync() {
            Spawned.Exit exit = Spawned.run(argv(dir, 1, new RsyncVersion(99, 0, 0)), r -> {}, true,
                    new Cancellation(), Duration.ofMinutes(1));

            assertThat(exit.code()).isNotZero();
            assertThat(exit.stderr()).containsPattern("fleet-preflight: rsync-too-old \\d+\\.\\d+");
            assertThat(exit.stdout()).doesNotContain("protocol version");
        }

        @Test
        @DisplayName("compares versions number by number, not as text (x.15 is newer than x.5)")
        void comparesNumberByNumber() {
            RsyncVersion local = RsyncVersion.parse(Spawned.run(List.of("rsync", "--version"), r -> {}, true,
                    new Cancellation(), Duration.ofMinutes(1)).stdout()).orElseThrow();
            // as text, "3.5.0" sorts after "3.15.0"; as numbers it is older, and must be refused
            RsyncVersion newer = new RsyncVersion(local.major(), local.minor() + 10, 0);
            RsyncVersion older = new RsyncVersion(local.major(), local.minor(), 0);

            Spawned.Exit refused = Spawned.run(argv(dir, 1, newer), r -> {}, true, new Cancellation(),
                    Duration.ofMinutes(1));
            Spawned.Exit accepted = Spawned.run(argv(dir, 1, older), r -> {}, true, new Cancellation(),
                    Duration.ofMinutes(1));

            assertThat(refused.code()).isNotZero();
            assertThat(refused.stderr()).contains("fleet-preflight: rsync-too-old " + local.major() + "."
                    + local.minor());
            assertThat(accepted.code()).isZero();
        }

        @Test
        @DisplayName("refuses when the file system has less room than the transfer needs, naming what is free")
        void refusesWhenTheDiskIsTooSmall() {
            Spawned.Exit exit = Spawned.run(argv(dir, 4L << 50, RsyncVersion.MINIMUM), r -> {}, true,
                    new Cancellation(), Duration.ofMinutes(1));

            assertThat(exit.code()).isNotZero();
            assertThat(exit.stderr()).containsPattern("fleet-preflight: disk-full \\d+");
        }
    }
}
