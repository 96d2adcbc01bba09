package dev.fleet.migration.transport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How this node logs in to other nodes over SSH: one private key (public-key auth only), one
 * known-hosts file that must already hold the target's host key (an unknown or changed key is
 * refused, never accepted), and a connect timeout.
 *
 * @param privateKey     an unencrypted OpenSSH private key file
 * @param knownHosts     an OpenSSH known_hosts file; entries for non-standard ports use the
 *                       {@code [host]:port} form
 * @param connectTimeout how long connecting and the key exchange may take
 */
public record SshSettings(Path privateKey, Path knownHosts, Duration connectTimeout) {
    public SshSettings {
        Objects.requireNonNull(privateKey, "privateKey");
        Objects.requireNonNull(knownHosts, "knownHosts");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        privateKey = privateKey.toAbsolutePath();
        knownHosts = knownHosts.toAbsolutePath();
        for (Path p : new Path[] {privateKey, knownHosts}) {
            // these paths end up inside rsync's -e command, which splits on spaces and quotes
            if (!p.toString().matches("/[a-zA-Z0-9_./@+=,-]*")) {
                throw new IllegalArgumentException("ssh file path must match /[a-zA-Z0-9_./@+=,-]*, but was "
                        + dev.fleet.migration.core.Names.quote(p.toString()));
            }
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connectTimeout must be positive, but was " + connectTimeout);
        }
    }

    public SshSettings(Path privateKey, Path knownHosts) {
        this(privateKey, knownHosts, Duration.ofSeconds(10));
    }

    void requireFilesReadable() {
        for (Path p : new Path[] {privateKey, knownHosts}) {
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException("ssh file " + p + " does not exist or is not readable");
            }
        }
    }
}
