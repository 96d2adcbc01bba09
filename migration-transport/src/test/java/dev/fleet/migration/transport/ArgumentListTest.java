package dev.fleet.migration.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.TransferRequest;
import dev.fleet.migration.core.spi.TransportException;
import dev.fleet.migration.transport.internal.RemoteCommand;
import dev.fleet.migration.transport.internal.RsyncOutput;
import dev.fleet.migration.transport.internal.RsyncVersion;
import dev.fleet.migration.transport.internal.SshFailures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("What reaches a command line")
class ArgumentListTest {
    @TempDir
    Path dir;

    private RsyncTransport rsync() throws Exception {
        Path key = Files.writeString(dir.resolve("key"), "k");
        Path known = Files.writeString(dir.resolve("known_hosts"), "");
        return RsyncTransport.builder(new SshSettings(key, known)).build();
    }

    @Nested
    @DisplayName("The rsync argument list")
    class Rsync {
        @Test
        @DisplayName("puts -- before the operands and a strict ssh command in -e")
        void putsDoubleDashBeforeOperandsAndAStrictSshCommand() throws Exception {
            TransferRequest request = new TransferRequest(dir.resolve("a.tar"), new Endpoint("127.0.0.1", 2222, "root"),
                    "/var/lib/fleet", "a.tar", Optional.empty(), OptionalLong.of(20L << 20));

            List<String> argv = rsync().rsyncCommand(request, false, "/var/lib/fleet/.a.tar.fleet-part");

            int dashes = argv.indexOf("--");
            assertThat(argv.subList(dashes + 1, argv.size())).containsExactly(
                    dir.resolve("a.tar").toString(), "root@127.0.0.1:/var/lib/fleet/.a.tar.fleet-part");
            assertThat(argv).contains("--partial", "--bwlimit=20480", "--info=progress2");
            String e = argv.get(argv.indexOf("-e") + 1);
            assertThat(e).contains("-o StrictHostKeyChecking=yes", "-o UserKnownHostsFile=" + dir.resolve("known_hosts"),
                    "-o BatchMode=yes", "-o IdentitiesOnly=yes", "-F /dev/null", "-p 2222");
        }

        @Test
        @DisplayName("runs the preflight in rsync's own session, flushes a tree with --fsync but leaves one file's flush to the verification, and offers AES-GCM first")
        void foldsThePreflightAndFlushesOnce() throws Exception {
            Files.writeString(dir.resolve("a.tar"), "x");
            TransferRequest file = new TransferRequest(dir.resolve("a.tar"), new Endpoint("127.0.0.1", 2222, "root"),
                    "/var/lib/fleet", "a.tar", Optional.empty(), OptionalLong.empty());
            Files.createDirectories(dir.resolve("vol"));
            TransferRequest tree = new TransferRequest(dir.resolve("vol"), new Endpoint("127.0.0.1", 2222, "root"),
                    "/var/lib/fleet", "vol", Optional.empty(), OptionalLong.empty());

            List<String> forFile = rsync().rsyncCommand(file, false, "/var/lib/fleet/.a.tar.fleet-part");
            List<String> forTree = rsync().rsyncCommand(tree, true, "/var/lib/fleet/.vol.fleet-part");

            assertThat(forFile).doesNotContain("--fsync");
            assertThat(forTree).contains("--fsync");
            String path = forFile.stream().filter(a -> a.startsWith("--rsync-path=")).findFirst().orElseThrow();
            assertThat(path).startsWith("--rsync-path=sh -c '").contains(" fleet-preflight /var/lib/fleet 1 3.2.4");
            assertThat(forFile.indexOf(path)).isLessThan(forFile.indexOf("--"));
            assertThat(forFile.get(forFile.indexOf("-e") + 1)).contains("-o Ciphers=aes128-gcm@openssh.com,");
        }

        @Test
        @DisplayName("refuses an ssh key path that rsync's -e splitting could misread")
        void refusesAKeyPathWithSpacesOrQuotes() {
            assertThatThrownBy(() -> new SshSettings(Path.of("/tmp/a b"), Path.of("/tmp/k")))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> new SshSettings(Path.of("/tmp/a'b"), Path.of("/tmp/k")))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Nested
    @DisplayName("Remote commands")
    class Remote {
        @Test
        @DisplayName("quote every argument for the remote shell")
        void quotesEveryArgument() {
            assertThat(RemoteCommand.of("sha256sum", "--", "/a b/$(id)'x").render())
                    .isEqualTo("sha256sum -- '/a b/$(id)'\\''x'");
        }

        @Test
        @DisplayName("refuse NUL and newline outright")
        void refuseNulAndNewline() {
            assertThatThrownBy(() -> RemoteCommand.of("rm", "a\nb")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> RemoteCommand.of("rm", "a\0b")).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Nested
    @DisplayName("Reading program output")
    class Output {
        @Test
        @DisplayName("reads the real rsync version line and refuses versions before 3.2.4")
        void readsTheVersion() {
            assertThat(RsyncVersion.parse("rsync  version 3.2.7  protocol version 31")).contains(new RsyncVersion(3, 2, 7));
            assertThat(new RsyncVersion(3, 2, 3).atLeast(RsyncVersion.MINIMUM)).isFalse();
            assertThat(new RsyncVersion(3, 2, 4).atLeast(RsyncVersion.MINIMUM)).isTrue();
            assertThat(new RsyncVersion(3, 10, 0).atLeast(RsyncVersion.MINIMUM)).isTrue();
        }

        @Test
        @DisplayName("reads progress2 records with and without thousands separators, and the bytes sent")
        void readsProgressAndStats() {
            assertThat(RsyncOutput.progressBytes("    250183680  83%  238.56MB/s    0:00:00  ")).hasValue(250183680);
            assertThat(RsyncOutput.progressBytes("  1,048,576  50%  100.00kB/s  0:00:10 (xfr#1, to-chk=0/1)"))
                    .hasValue(1048576);
            assertThat(RsyncOutput.progressBytes("Number of files: 1 (reg: 1)")).isEmpty();
            assertThat(RsyncOutput.bytesSent("Total bytes sent: 300,073,314")).hasValue(300073314);
        }

        @Test
        @DisplayName("names the cause in OpenSSH's messages")
        void namesTheCause() {
            assertThat(SshFailures.reasonIn("No ED25519 host key is known for [127.0.0.1]:2222 and you have "
                    + "requested strict checking.\nHost key verification failed.")).contains(TransportException.Reason.HOST_KEY_UNKNOWN);
            assertThat(SshFailures.reasonIn("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@"))
                    .contains(TransportException.Reason.HOST_KEY_MISMATCH);
            assertThat(SshFailures.reasonIn("root@127.0.0.1: Permission denied (publickey)."))
                    .contains(TransportException.Reason.AUTH_REFUSED);
            assertThat(SshFailures.reasonIn("ssh: connect to host 127.0.0.1 port 1: Connection refused"))
                    .contains(TransportException.Reason.HOST_UNREACHABLE);
            assertThat(SshFailures.reasonIn("rsync: write failed on \"/x\": No space left on device (28)"))
                    .contains(TransportException.Reason.DISK_FULL);
        }
    }
}
