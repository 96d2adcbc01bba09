package dev.fleet.migration.transport.internal;

import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.UserInfo;
import dev.fleet.migration.core.spi.Endpoint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Host-key bookkeeping: OpenSSH-style fingerprints, and a known-hosts repository that records
 * what the server offered and what the file said about it, so a refusal can name both.
 */
public final class HostKeys {
    private HostKeys() {}

    /** {@code SHA256:<base64 without padding>} of a public-key blob, as {@code ssh-keygen -l} prints it. */
    public static String fingerprint(byte[] keyBlob) {
        byte[] digest = Hex.sha256().digest(keyBlob);
        return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
    }

    /** Wraps a known-hosts repository and remembers the last check. */
    public static final class Recording implements HostKeyRepository {
        private final HostKeyRepository delegate;
        private final AtomicReference<String> offered = new AtomicReference<>();
        private volatile int lastResult = OK;

        public Recording(HostKeyRepository delegate) {
            this.delegate = delegate;
        }

        public Optional<String> offeredFingerprint() {
            return Optional.ofNullable(offered.get());
        }

        public int lastResult() {
            return lastResult;
        }

        @Override
        public int check(String host, byte[] key) {
            offered.set(fingerprint(key));
            int result = delegate.check(host, key);
            lastResult = result;
            return result;
        }

        @Override
        public void add(HostKey hostkey, UserInfo ui) {
            // never learn keys: strict checking means the file is edited by people only
        }

        @Override
        public void remove(String host, String type) {
            // read-only
        }

        @Override
        public void remove(String host, String type, byte[] key) {
            // read-only
        }

        @Override
        public String getKnownHostsRepositoryID() {
            return delegate.getKnownHostsRepositoryID();
        }

        @Override
        public HostKey[] getHostKey() {
            return delegate.getHostKey();
        }

        @Override
        public HostKey[] getHostKey(String host, String type) {
            return delegate.getHostKey(host, type);
        }
    }

    /**
     * Asks a server which host key it offers, without logging in (the key exchange only); used
     * to name the fingerprint when OpenSSH's own message does not. Empty when unreachable.
     */
    public static Optional<String> offeredBy(Endpoint target, Path knownHosts, Duration timeout) {
        JSch jsch = new JSch();
        try {
            jsch.setKnownHosts(knownHosts.toString());
            Recording recording = new Recording(jsch.getHostKeyRepository());
            jsch.setHostKeyRepository(recording);
            Session session = jsch.getSession(target.user(), target.host(), target.port());
            session.setConfig("StrictHostKeyChecking", "yes");
            session.setConfig("PreferredAuthentications", "none");
            try {
                session.connect((int) timeout.toMillis());
            } catch (JSchException expected) {
                // refused host key or no auth method: the key was seen either way
            } finally {
                session.disconnect();
            }
            return recording.offeredFingerprint();
        } catch (JSchException e) {
            return Optional.empty();
        }
    }
}
