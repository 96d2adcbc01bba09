package dev.fleet.migration.transport;

import com.jcraft.jsch.ChannelExec;
import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchChangedHostKeyException;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.JSchUnknownHostKeyException;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SftpATTRS;
import com.jcraft.jsch.SftpException;
import com.jcraft.jsch.SftpProgressMonitor;
import com.jcraft.jsch.SftpStatVFS;
import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.ProgressListener;
import dev.fleet.migration.core.spi.TransferRequest;
import dev.fleet.migration.core.spi.TransferResult;
import dev.fleet.migration.core.spi.Transport;
import dev.fleet.migration.core.spi.TransportException;
import dev.fleet.migration.core.spi.TransportException.Reason;
import dev.fleet.migration.transport.internal.Hex;
import dev.fleet.migration.transport.internal.HostKeys;
import dev.fleet.migration.transport.internal.LocalHash;
import dev.fleet.migration.transport.internal.LocalSource;
import dev.fleet.migration.transport.internal.MeteredInputStream;
import dev.fleet.migration.transport.internal.ProgressMeter;
import dev.fleet.migration.transport.internal.RemoteCommand;
import dev.fleet.migration.transport.internal.RemoteDialog;
import dev.fleet.migration.transport.internal.RemoteScripts;
import dev.fleet.migration.transport.internal.SshFailures;
import dev.fleet.migration.transport.internal.TempNames;
import dev.fleet.migration.transport.internal.Throttle;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Pushes over SSH in-process with jsch: public-key auth, strict host-key checking against a
 * known-hosts file (a refusal names the offered fingerprint; nothing is ever learnt), and the
 * SFTP subsystem for the data, because SFTP can write at an offset: a cut transfer resumes at
 * the size of the temp file on the target instead of starting over, which plain scp cannot.
 *
 * <p>The file streams from disk through a 32 KiB window (constant memory, whatever its size),
 * throttled when the request has a bandwidth limit. One exec channel on the same session
 * ({@link RemoteDialog}), opened when the upload starts, then flushes the temp file to disk while
 * it hashes it ({@link RemoteHash#AUTO}: openssl when present), and renames it to the final name
 * once we saw the digest match and no cancellation: one shell start on the target instead of
 * two, and it overlaps the upload. SFTP has no flush of its own that
 * jsch speaks, and without one a crash right after the rename could leave a short file under
 * the final name.
 *
 * <p>Thread-safe: every transfer opens its own session.
 */
public final class ScpTransport implements Transport {
    private static final String CIPHERS =
            "aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr";
    private final SshSettings ssh;
    private final RemoteHash remoteHash;
    private final int bulkRequests;
    private final Consumer<String> beforeVerification;

    private ScpTransport(Builder b) {
        this.ssh = b.ssh;
        this.remoteHash = b.remoteHash;
        this.bulkRequests = b.bulkRequests;
        this.beforeVerification = b.beforeVerification;
    }

    public static Builder builder(SshSettings ssh) {
        return new Builder(ssh);
    }

    @Override
    public String name() {
        return "scp";
    }

    @Override
    public TransferResult transfer(TransferRequest request, ProgressListener progress, Cancellation cancellation) {
        long started = System.nanoTime();
        LocalSource source = LocalSource.forTransfer(request, progress, cancellation);
        LocalHash expected = LocalHash.expected(request, source);
        String temp = TempNames.join(request.targetDirectory(), TempNames.partial(request.name()));
        Session session = connect(request.target());
        ChannelSftp sftp = null;
        try {
            sftp = openSftp(session);
            mkdirs(sftp, request.targetDirectory());
            ProgressMeter meter = new ProgressMeter(progress, source.totalBytes());
            Optional<Throttle> throttle = request.bandwidthLimit().isPresent()
                    ? Optional.of(new Throttle(request.bandwidthLimit().getAsLong())) : Optional.empty();
            long sent;
            Optional<String> sha = Optional.empty();
            if (source.directory()) {
                sent = sendDirectory(sftp, source, temp, meter, throttle, cancellation, request);
            } else {
                Optional<String> verified;
                Sent first;
                // the verification channel opens now, so the target's shell start-up overlaps the upload
                try (Verification verification = verification(session, request, temp)) {
                    first = sendFile(sftp, source.root(), temp, request, meter, throttle, cancellation);
                    sent = first.bytes();
                    beforeVerification.accept(temp);
                    verified = verifyAndCommit(verification.dialog(), request, temp, expected, cancellation,
                            first.resumed());
                }
                if (verified.isEmpty()) {
                    // what an earlier attempt left was not a prefix of this file: start over once (the dialog
                    // removed the temp file already; removing again costs nothing and never resumes on it)
                    rm(sftp, temp);
                    try (Verification verification = verification(session, request, temp)) {
                        sent += sendFile(sftp, source.root(), temp, request, meter, throttle, cancellation).bytes();
                        beforeVerification.accept(temp);
                        verified = verifyAndCommit(verification.dialog(), request, temp, expected, cancellation,
                                false);
                    }
                }
                sha = verified;
            }
            if (source.directory()) {
                cancellation.check("the transfer of " + request.name());
                // the commit point: once the renames start they finish, so no half-replaced directory is left
                exec(session, RemoteScripts.finish(request, temp, true), new Cancellation(), Duration.ofMinutes(5));
            }
            meter.finish();
            return new TransferResult(request.remotePath(), source.totalBytes(), sent, sha,
                    Duration.ofNanos(System.nanoTime() - started));
        } catch (TransportException e) {
            if (e.reason() == Reason.CANCELLED && session.isConnected()) {
                try {
                    exec(session, RemoteCommand.of("rm", "-rf", "--", temp), new Cancellation(), Duration.ofMinutes(1));
                } catch (TransportException ignored) {
                    // best effort: nothing is under the final name either way
                }
            }
            throw e;
        } finally {
            if (sftp != null) {
                sftp.disconnect();
            }
            session.disconnect();
        }
    }

    private record Sent(long bytes, boolean resumed) {}

    private Sent sendFile(ChannelSftp sftp, Path local, String remote, TransferRequest request, ProgressMeter meter,
                          Optional<Throttle> throttle, Cancellation cancellation) {
        return sendFile(sftp, local, remote, request, meter, throttle, cancellation, true);
    }

    private Sent sendFile(ChannelSftp sftp, Path local, String remote, TransferRequest request, ProgressMeter meter,
                          Optional<Throttle> throttle, Cancellation cancellation, boolean checkSpace) {
        long size;
        try {
            size = Files.size(local);
        } catch (IOException e) {
            throw new TransportException(Reason.IO, "cannot read " + local + ": " + e.getMessage(), e);
        }
        long existing = remoteSize(sftp, remote);
        if (existing > size) {
            rm(sftp, remote);
            existing = 0;
        }
        if (checkSpace) {
            requireSpace(sftp, request, size - existing);
        }
        meter.add(existing);
        if (existing == size && size > 0) {
            return new Sent(0, true);
        }
        try (InputStream file = Files.newInputStream(local);
             MeteredInputStream in = new MeteredInputStream(file, throttle, cancellation)) {
            long skipped = 0;
            while (skipped < existing) {
                long n = file.skip(existing - skipped);
                if (n <= 0) {
                    throw new TransportException(Reason.IO, "cannot skip to " + existing + " in " + local);
                }
                skipped += n;
            }
            sftp.put(in, remote, new SftpProgressMonitor() {
                @Override
                public void init(int op, String src, String dest, long max) {}

                @Override
                public boolean count(long count) {
                    meter.add(count);
                    return !cancellation.isCancelled();
                }

                @Override
                public void end() {}
            }, existing > 0 ? ChannelSftp.APPEND : ChannelSftp.OVERWRITE);
            cancellation.check("the transfer of " + request.name());
            return new Sent(in.bytesRead(), existing > 0);
        } catch (SftpException e) {
            cancellation.check("the transfer of " + request.name());
            throw sftpFailure("writing " + remote, e, sftp, request);
        } catch (IOException e) {
            cancellation.check("the transfer of " + request.name());
            throw new TransportException(Reason.IO, "cannot read " + local + ": " + e.getMessage(), e);
        }
    }

    private long sendDirectory(ChannelSftp sftp, LocalSource source, String temp, ProgressMeter meter,
                               Optional<Throttle> throttle, Cancellation cancellation, TransferRequest request) {
        requireSpace(sftp, request, source.totalBytes());
        mkdirs(sftp, temp);
        for (Path dir : source.directories()) {
            mkdirs(sftp, temp + "/" + source.relative(dir));
        }
        long sent = 0;
        for (Path file : source.files()) {
            cancellation.check("the transfer of " + request.name());
            // the space for the whole tree was checked once above
            sent += sendFile(sftp, file, temp + "/" + source.relative(file), request, meter, throttle, cancellation,
                    false).bytes();
        }
        return sent;
    }

    private void requireSpace(ChannelSftp sftp, TransferRequest request, long needed) {
        if (needed <= 0) {
            return;
        }
        OptionalAvailable available = available(sftp, request.targetDirectory());
        if (available.known && available.bytes < needed) {
            throw new TransportException(Reason.DISK_FULL, "the target " + request.target().host() + ":"
                    + request.targetDirectory() + " has " + available.bytes + " bytes free, the transfer needs "
                    + needed);
        }
    }

    private record OptionalAvailable(boolean known, long bytes) {}

    private static OptionalAvailable available(ChannelSftp sftp, String dir) {
        try {
            SftpStatVFS vfs = sftp.statVFS(dir);
            long unit = vfs.getFragmentSize() > 0 ? vfs.getFragmentSize() : vfs.getBlockSize();
            return new OptionalAvailable(true, unit * vfs.getAvailBlocks());
        } catch (SftpException | RuntimeException e) {
            // a server without statvfs@openssh.com: the write itself will tell
            return new OptionalAvailable(false, 0);
        }
    }

    private TransportException sftpFailure(String what, SftpException e, ChannelSftp sftp, TransferRequest request) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (SshFailures.reasonIn(message).orElse(null) == Reason.DISK_FULL) {
            return new TransportException(Reason.DISK_FULL, what + ": " + message, e);
        }
        if (e.id == ChannelSftp.SSH_FX_FAILURE && sftp.isConnected()) {
            // OpenSSH's sftp-server reports ENOSPC as a bare "Failure": ask the filesystem
            OptionalAvailable free = available(sftp, request.targetDirectory());
            if (free.known && free.bytes < 1024 * 1024) {
                return new TransportException(Reason.DISK_FULL, what + ": no space left on the target "
                        + request.target().host() + " (" + free.bytes + " bytes free)", e);
            }
        }
        if (!sftp.isConnected() || e.id == ChannelSftp.SSH_FX_CONNECTION_LOST
                || e.id == ChannelSftp.SSH_FX_NO_CONNECTION || e.getCause() instanceof IOException) {
            return new TransportException(Reason.HOST_UNREACHABLE, what + ": the connection to "
                    + request.target().host() + " was lost: " + message, e);
        }
        return new TransportException(Reason.IO, what + " failed: " + message, e);
    }

    private Session connect(Endpoint target) {
        JSch jsch = new JSch();
        HostKeys.Recording hostKeys;
        try {
            jsch.setKnownHosts(ssh.knownHosts().toString());
            hostKeys = new HostKeys.Recording(jsch.getHostKeyRepository());
            jsch.setHostKeyRepository(hostKeys);
            jsch.addIdentity(ssh.privateKey().toString());
        } catch (JSchException e) {
            throw new TransportException(Reason.IO, "cannot load the ssh key " + ssh.privateKey() + " or known hosts "
                    + ssh.knownHosts() + ": " + e.getMessage(), e);
        }
        String where = target.user() + "@" + target.host() + ":" + target.port();
        Session session;
        try {
            session = jsch.getSession(target.user(), target.host(), target.port());
        } catch (JSchException e) {
            throw new TransportException(Reason.IO, "cannot open a session to " + where + ": " + e.getMessage(), e);
        }
        session.setConfig("StrictHostKeyChecking", "yes");
        session.setConfig("HashKnownHosts", "no");
        session.setConfig("PreferredAuthentications", "publickey");
        session.setConfig("cipher.c2s", CIPHERS);
        session.setConfig("cipher.s2c", CIPHERS);
        session.setConfig("FingerprintHash", "SHA256");
        try {
            session.setServerAliveInterval(15_000);
            session.setServerAliveCountMax(4);
            session.connect((int) ssh.connectTimeout().toMillis());
            return session;
        } catch (JSchException e) {
            session.disconnect();
            String offered = hostKeys.offeredFingerprint().orElse("(fingerprint not available)");
            if (e instanceof JSchChangedHostKeyException || hostKeys.lastResult() == HostKeyRepository.CHANGED) {
                throw new TransportException(Reason.HOST_KEY_MISMATCH, "host key of " + where
                        + " does not match the known-hosts entry; the server offered " + offered + " (refused)", e);
            }
            if (e instanceof JSchUnknownHostKeyException || hostKeys.lastResult() == HostKeyRepository.NOT_INCLUDED) {
                throw new TransportException(Reason.HOST_KEY_UNKNOWN, "host key of " + where
                        + " is not in the known-hosts file; the server offered " + offered
                        + " (refused; add it to known_hosts after checking it out of band)", e);
            }
            String message = String.valueOf(e.getMessage());
            String type = e.getClass().getSimpleName();
            if (type.equals("JSchAuthCancelException") || type.equals("JSchPartialAuthException")
                    || message.startsWith("Auth fail") || message.contains("Auth cancel")) {
                throw new TransportException(Reason.AUTH_REFUSED, where + " refused the public key of this node: "
                        + message, e);
            }
            Throwable cause = e.getCause();
            if (cause instanceof ConnectException || cause instanceof NoRouteToHostException
                    || cause instanceof UnknownHostException || cause instanceof SocketTimeoutException
                    || cause instanceof IOException || message.contains("timeout")
                    || message.contains("Connection refused") || message.contains("connection is closed")) {
                throw new TransportException(Reason.HOST_UNREACHABLE, "cannot reach " + where + ": " + message, e);
            }
            throw new TransportException(Reason.IO, "ssh to " + where + " failed: " + message, e);
        }
    }

    private ChannelSftp openSftp(Session session) {
        try {
            ChannelSftp sftp = (ChannelSftp) session.openChannel("sftp");
            sftp.setBulkRequests(bulkRequests);
            sftp.connect((int) ssh.connectTimeout().toMillis());
            return sftp;
        } catch (JSchException e) {
            throw new TransportException(Reason.IO, "cannot start the sftp subsystem on " + session.getHost() + ": "
                    + e.getMessage(), e);
        }
    }

    private static long remoteSize(ChannelSftp sftp, String path) {
        try {
            SftpATTRS attrs = sftp.lstat(path);
            if (attrs.isReg()) {
                return attrs.getSize();
            }
            throw new TransportException(Reason.IO, path + " on the target exists and is not a regular file");
        } catch (SftpException e) {
            if (e.id == ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                return 0;
            }
            throw new TransportException(Reason.IO, "cannot stat " + path + ": " + e.getMessage(), e);
        }
    }

    private static void rm(ChannelSftp sftp, String path) {
        try {
            sftp.rm(path);
        } catch (SftpException e) {
            if (e.id != ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                throw new TransportException(Reason.IO, "cannot remove " + path + ": " + e.getMessage(), e);
            }
        }
    }

    private static void mkdirs(ChannelSftp sftp, String dir) {
        StringBuilder path = new StringBuilder();
        for (String part : dir.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            path.append('/').append(part);
            String p = path.toString();
            try {
                SftpATTRS attrs = sftp.stat(p);
                if (!attrs.isDir()) {
                    throw new TransportException(Reason.IO, p + " on the target is not a directory");
                }
            } catch (SftpException missing) {
                try {
                    sftp.mkdir(p);
                } catch (SftpException e) {
                    throw new TransportException(Reason.IO, "cannot create " + p + " on the target: " + e.getMessage(), e);
                }
            }
        }
    }

    /** The verification session of one file: its exec channel and the dialog on it. */
    private record Verification(ChannelExec channel, RemoteDialog dialog) implements AutoCloseable {
        @Override
        public void close() {
            dialog.close();
            channel.disconnect();
        }
    }

    /** Opens the exec channel that will verify and commit {@code temp} ({@link RemoteDialog}); it waits for our word. */
    private Verification verification(Session session, TransferRequest request, String temp) {
        RemoteCommand command = RemoteDialog.command(temp, request.remotePath(), request.targetDirectory(),
                remoteHash.command(temp));
        ChannelExec channel = null;
        try {
            channel = (ChannelExec) session.openChannel("exec");
            channel.setCommand(command.render());
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            channel.setErrStream(err);
            InputStream out = channel.getInputStream();
            OutputStream in = channel.getOutputStream();
            channel.connect((int) ssh.connectTimeout().toMillis());
            ChannelExec ch = channel;
            return new Verification(ch, new RemoteDialog(out, in,
                    () -> ch.isClosed() ? OptionalInt.of(ch.getExitStatus()) : OptionalInt.empty(),
                    () -> err.toString(StandardCharsets.UTF_8), ch::disconnect));
        } catch (JSchException | IOException e) {
            if (channel != null) {
                channel.disconnect();
            }
            throw new TransportException(Reason.HOST_UNREACHABLE, "cannot open a channel to " + session.getHost()
                    + " to verify " + temp + ": " + e.getMessage(), e);
        }
    }

    /**
     * Has the target flush and hash the temp file and, when the digest is the expected one and
     * the transfer was not cancelled meanwhile, rename it. Empty when the digest differs after a
     * resume and {@code mayRetry}: the temp file was removed and the caller sends the whole file
     * again.
     */
    private Optional<String> verifyAndCommit(RemoteDialog dialog, TransferRequest request, String temp,
                                             LocalHash expected, Cancellation cancellation, boolean mayRetry) {
        String what = "verifying " + temp + " on " + request.target().host();
        String actual = dialog.awaitDigest(what, cancellation, Duration.ofHours(2));
        String want = expected.get();
        if (!actual.equals(want)) {
            dialog.discard(what, Duration.ofMinutes(1));
            if (mayRetry) {
                return Optional.empty();
            }
            throw new TransportException(Reason.CHECKSUM_MISMATCH, "sha256 of " + temp + " on "
                    + request.target().host() + " is " + actual + ", expected " + want + "; the copy was removed");
        }
        cancellation.check("the transfer of " + request.name());
        dialog.commit(what, Duration.ofMinutes(5));
        return Optional.of(actual);
    }

    /** Runs a quoted command on the target through an exec channel; returns stdout. */
    private String exec(Session session, RemoteCommand command, Cancellation cancellation, Duration limit) {
        ChannelExec channel = null;
        try {
            channel = (ChannelExec) session.openChannel("exec");
            channel.setCommand(command.render());
            channel.setInputStream(null);
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            channel.setErrStream(err);
            InputStream out = channel.getInputStream();
            channel.connect((int) ssh.connectTimeout().toMillis());
            ByteArrayOutputStream stdout = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            long until = System.nanoTime() + limit.toNanos();
            for (int n; (n = out.read(buf)) >= 0; ) {
                if (stdout.size() < 1 << 20) {
                    stdout.write(buf, 0, n);
                }
                cancellation.check("'" + command + "'");
            }
            // EOF came first; the exit status follows in the channel's close message
            while (!channel.isClosed() && System.nanoTime() - until < 0) {
                LockSupport.parkNanos(5_000_000L);
            }
            int status = channel.getExitStatus();
            if (status != 0) {
                String stderr = err.toString(StandardCharsets.UTF_8);
                Reason reason = SshFailures.reasonIn(stderr).orElse(Reason.IO);
                throw new TransportException(reason, "'" + command + "' on " + session.getHost()
                        + " exited with " + status + ": " + SshFailures.lastLines(stderr, 4));
            }
            return stdout.toString(StandardCharsets.UTF_8);
        } catch (JSchException | IOException e) {
            throw new TransportException(Reason.HOST_UNREACHABLE, "'" + command + "' on " + session.getHost()
                    + " failed: " + e.getMessage(), e);
        } finally {
            if (channel != null) {
                channel.disconnect();
            }
        }
    }

    /** Builds a {@link ScpTransport}; only the SSH settings are required. */
    public static final class Builder {
        private final SshSettings ssh;
        private RemoteHash remoteHash = RemoteHash.AUTO;
        private int bulkRequests = 64;
        private Consumer<String> beforeVerification = p -> {};

        private Builder(SshSettings ssh) {
            this.ssh = Objects.requireNonNull(ssh, "ssh");
        }

        /** How the target hashes the received file; default {@link RemoteHash#AUTO}. */
        public Builder remoteHash(RemoteHash remoteHash) {
            this.remoteHash = Objects.requireNonNull(remoteHash);
            return this;
        }

        /** SFTP write requests in flight at once (32 KiB each); default 64. */
        public Builder bulkRequests(int bulkRequests) {
            if (bulkRequests < 1 || bulkRequests > 1024) {
                throw new IllegalArgumentException("bulkRequests must be in 1..1024, but was " + bulkRequests);
            }
            this.bulkRequests = bulkRequests;
            return this;
        }

        /**
         * A fault-injection seam for tests: called with the temp path on the target after the
         * bytes arrived and before the target hashes them.
         */
        public Builder beforeVerification(Consumer<String> hook) {
            this.beforeVerification = Objects.requireNonNull(hook);
            return this;
        }

        public ScpTransport build() {
            ssh.requireFilesReadable();
            return new ScpTransport(this);
        }
    }
}
