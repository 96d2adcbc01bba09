package dev.fleet.migration.transport;

import dev.fleet.migration.core.spi.Endpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real sshd that {@code scripts/ci/services/ssh.sh} starts on 127.0.0.1, as the
 * FLEET_TEST_SSH_* variables describe it. A missing variable fails the test, naming it: these
 * tests never skip.
 */
public record SshTestEnvironment(String host, int port, String user, Path key, Path knownHosts,
                                 Path hostPublicKey, long sshdPid) {

    public static SshTestEnvironment require() {
        String host = variable("FLEET_TEST_SSH_HOST");
        if (!host.startsWith("127.")) {
            throw new AssertionError("FLEET_TEST_SSH_HOST must be a loopback address (127.0.0.0/8), but was " + host);
        }
        return new SshTestEnvironment(host, Integer.parseInt(variable("FLEET_TEST_SSH_PORT")),
                variable("FLEET_TEST_SSH_USER"), Path.of(variable("FLEET_TEST_SSH_KEY")),
                Path.of(variable("FLEET_TEST_SSH_KNOWN_HOSTS")), Path.of(variable("FLEET_TEST_SSH_HOST_PUBLIC_KEY")),
                Long.parseLong(variable("FLEET_TEST_SSH_PID")));
    }

    private static String variable(String name) {
        String value = System.getenv(name);
        if (value == null || value.isBlank()) {
            throw new AssertionError("environment variable " + name + " is not set: these integration tests need the"
                    + " test sshd. Run them through scripts/test.sh, or start it with"
                    + " `bash scripts/ci/services/ssh.sh up /tmp/fleet-test && source /tmp/fleet-test/ssh.env`");
        }
        return value;
    }

    public Endpoint endpoint() {
        return new Endpoint(host, port, user);
    }

    public Endpoint endpoint(int otherPort) {
        return new Endpoint(host, otherPort, user);
    }

    public SshSettings settings() {
        return new SshSettings(key, knownHosts);
    }

    public SshSettings settings(Path otherKnownHosts) {
        return new SshSettings(key, otherKnownHosts);
    }

    /** A known-hosts file that holds this sshd's real key under another port (for a proxy in front). */
    public Path knownHostsForPort(Path dir, int proxyPort) {
        return writeKnownHosts(dir.resolve("known_hosts-" + proxyPort), proxyPort, hostKeyLine());
    }

    /** A known-hosts file that names a different key for this sshd: a changed host key. */
    public Path knownHostsWithAnotherKey(Path dir) {
        try {
            Path other = dir.resolve("other_host_key");
            Process p = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other.toString())
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("ssh-keygen failed");
            }
            String line = Files.readString(Path.of(other + ".pub")).trim();
            String[] parts = line.split(" ");
            return writeKnownHosts(dir.resolve("known_hosts-changed"), port, parts[0] + " " + parts[1]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** An empty known-hosts file: every key is unknown. */
    public Path emptyKnownHosts(Path dir) {
        try {
            return Files.writeString(dir.resolve("known_hosts-empty"), "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The host key's SHA256 fingerprint, as ssh-keygen -l prints it. */
    public String hostKeyFingerprint() {
        String[] parts = hostKeyLine().split(" ");
        byte[] blob = java.util.Base64.getDecoder().decode(parts[1]);
        return dev.fleet.migration.transport.internal.HostKeys.fingerprint(blob);
    }

    private String hostKeyLine() {
        try {
            String[] parts = Files.readString(hostPublicKey).trim().split(" ");
            return parts[0] + " " + parts[1];
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path writeKnownHosts(Path file, int forPort, String keyLine) {
        try {
            return Files.writeString(file, "[" + host + "]:" + forPort + " " + keyLine + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
