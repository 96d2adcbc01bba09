package dev.fleet.migration.transport;

import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.ProgressListener;
import dev.fleet.migration.core.spi.TransferRequest;
import dev.fleet.migration.core.spi.TransferResult;
import dev.fleet.migration.core.spi.Transport;
import dev.fleet.migration.core.spi.TransportException;
import dev.fleet.migration.core.spi.TransportException.Reason;
import dev.fleet.migration.transport.internal.HostKeys;
import dev.fleet.migration.transport.internal.LocalHash;
import dev.fleet.migration.transport.internal.LocalSource;
import dev.fleet.migration.transport.internal.RemoteScripts;
import dev.fleet.migration.transport.internal.ProgressMeter;
import dev.fleet.migration.transport.internal.RemoteDialog;
import dev.fleet.migration.transport.internal.RemoteCommand;
import dev.fleet.migration.transport.internal.RsyncOutput;
import dev.fleet.migration.transport.internal.RsyncVersion;
import dev.fleet.migration.transport.internal.Spawned;
import dev.fleet.migration.transport.internal.SshMaster;
import dev.fleet.migration.transport.internal.SshFailures;
import dev.fleet.migration.transport.internal.TempNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pushes with the {@code rsync} program over {@code ssh}, both spawned from argument lists.
 *
 * <p>Flow per transfer: one ssh login that every later call shares ({@link SshMaster}, OpenSSH
 * connection multiplexing). rsync sends into a fixed temp name ({@code .NAME.fleet-part}) with
 * {@code --partial}, so a cut transfer leaves what arrived there and the next attempt sends only
 * the rest; its {@code --rsync-path} puts the checks in front of the rsync server, in the same
 * session (creates the target directory, refuses an rsync older than the minimum or too little
 * free space, see {@link RemoteScripts}). One more session ({@link RemoteDialog}), opened
 * while rsync runs, then flushes the temp file to disk while hashing it, and renames it to the
 * final name once we saw the digest match and no cancellation. The ssh command is strict: only the configured key, only the
 * configured known-hosts file, {@code StrictHostKeyChecking=yes}, no user or system ssh config.
 *
 * <p>Why it is shaped like this (measured against the plain rsync command on 1 GiB over
 * loopback): every remote session starts the login user's shell, and a login adds the key
 * exchange, so the plain command's one session is matched by one for rsync and one for the
 * verification that starts during the transfer (there were four logins, one after the other); the received file is flushed once, concurrently with
 * the hash that reads it back (rsync's {@code --fsync} would flush first, then we would hash);
 * the hash runs {@link RemoteHash#AUTO}; and AES-GCM is offered before chacha20, the faster
 * cipher on CPUs with AES instructions. A directory is still flushed file by file with
 * {@code --fsync}, and renamed into place by a separate call.
 *
 * <p>Thread-safe: every transfer spawns its own processes.
 */
public final class RsyncTransport implements Transport {
    private static final Pattern PREFLIGHT = Pattern.compile("fleet-preflight: ([a-z-]+)([^\\n]*)");
    /** OpenSSH's default ciphers, AES-GCM first: the server takes the first one it also supports. */
    static final String CIPHERS = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,"
            + "aes128-ctr,aes192-ctr,aes256-ctr";
    private final SshSettings ssh;
    private final String rsyncProgram;
    private final String sshProgram;
    private final RemoteHash remoteHash;
    private final RsyncVersion minimumVersion;
    private final Duration ioTimeout;
    private final Duration deadline;
    private final Consumer<String> beforeVerification;
    private final boolean shareConnection;
    private volatile RsyncVersion localVersion;

    private RsyncTransport(Builder b) {
        this.ssh = b.ssh;
        this.rsyncProgram = b.rsyncProgram;
        this.sshProgram = b.sshProgram;
        this.remoteHash = b.remoteHash;
        this.minimumVersion = b.minimumVersion;
        this.ioTimeout = b.ioTimeout;
        this.deadline = b.deadline;
        this.beforeVerification = b.beforeVerification;
        this.shareConnection = b.shareConnection;
    }

    public static Builder builder(SshSettings ssh) {
        return new Builder(ssh);
    }

    @Override
    public String name() {
        return "rsync";
    }

    @Override
    public TransferResult transfer(TransferRequest request, ProgressListener progress, Cancellation cancellation) {
        long started = System.nanoTime();
        LocalSource source = LocalSource.forTransfer(request, progress, cancellation);
        requireLocalVersion();
        Endpoint target = request.target();
        String temp = TempNames.join(request.targetDirectory(), TempNames.partial(request.name()));
        String finalPath = request.remotePath();

        LocalHash localSha = LocalHash.expected(request, source);
        SshMaster master = shareConnection ? SshMaster.start(sshBase(target), destination(target),
                ssh.connectTimeout(), cancellation, stderr -> sshFailure("ssh", target, 255, stderr)) : null;
        List<String> sshCommand = sshCommand(target, master);
        // the verification session starts now, so the target's shell start-up overlaps the transfer
        try (RemoteDialog dialog = source.directory() ? null : verification(sshCommand, request, temp, cancellation)) {
            ProgressMeter meter = new ProgressMeter(progress, source.totalBytes());
            long sent = rsync(request, source, temp, sshCommand, meter, cancellation);
            Optional<String> sha = Optional.empty();
            if (dialog != null) {
                beforeVerification.accept(temp);
                sha = Optional.of(verifyAndCommit(dialog, request, temp, localSha, cancellation));
            } else {
                cancellation.check("the transfer of " + request.name());
                // the commit point: once the renames start they finish, so no half-replaced directory is left
                runRemote(sshCommand, target, RemoteScripts.finish(request, temp, true), new Cancellation(),
                        Duration.ofMinutes(5));
            }
            meter.finish();
            return new TransferResult(finalPath, source.totalBytes(), sent, sha,
                    Duration.ofNanos(System.nanoTime() - started));
        } catch (TransportException e) {
            if (e.reason() == Reason.CANCELLED) {
                removeQuietly(sshCommand, target, temp);
            }
            throw e;
        } finally {
            if (master != null) {
                master.close();
            }
        }
    }

    /** Opens the session that will verify and commit {@code temp} ({@link RemoteDialog}); it waits for our word. */
    private RemoteDialog verification(List<String> sshCommand, TransferRequest request, String temp,
                                      Cancellation cancellation) {
        List<String> argv = new ArrayList<>(sshCommand);
        argv.add("--");
        argv.add(destination(request.target()));
        argv.add(RemoteDialog.command(temp, request.remotePath(), request.targetDirectory(),
                remoteHash.command(temp)).render());
        return Spawned.dialog(argv, cancellation);
    }

    /**
     * Has the target flush and hash the temp file and, when the digest is the expected one and
     * the transfer was not cancelled meanwhile, rename it, in the session opened before.
     */
    private String verifyAndCommit(RemoteDialog dialog, TransferRequest request, String temp, LocalHash expectedSha,
                                   Cancellation cancellation) {
        Endpoint target = request.target();
        String what = "verifying " + temp + " on " + target.host();
        String actual = dialog.awaitDigest(what, cancellation, Duration.ofHours(2));
        String expected = expectedSha.get();
        if (!actual.equals(expected)) {
            dialog.discard(what, Duration.ofMinutes(1));
            throw new TransportException(Reason.CHECKSUM_MISMATCH, "sha256 of " + temp + " on "
                    + target.host() + " is " + actual + ", expected " + expected + "; the copy was removed");
        }
        cancellation.check("the transfer of " + request.name());
        dialog.commit(what, Duration.ofMinutes(5));
        return actual;
    }

    private void requireLocalVersion() {
        if (localVersion != null) {
            return;
        }
        Spawned.Exit exit = Spawned.run(List.of(rsyncProgram, "--version"), r -> {}, true, new Cancellation(),
                Duration.ofSeconds(30));
        RsyncVersion v = RsyncVersion.parse(exit.stdout()).orElseThrow(() -> new TransportException(
                Reason.PROGRAM_TOO_OLD, "cannot read the version of " + rsyncProgram + " from: "
                + SshFailures.lastLines(exit.stdout() + exit.stderr(), 2)));
        requireAtLeast(v, "local " + rsyncProgram);
        localVersion = v;
    }

    private void requireAtLeast(RsyncVersion v, String which) {
        if (!v.atLeast(minimumVersion)) {
            throw new TransportException(Reason.PROGRAM_TOO_OLD, which + " is version " + v + "; at least "
                    + minimumVersion + " is needed (it has the path-traversal fixes)");
        }
    }

    private long rsync(TransferRequest request, LocalSource source, String temp, List<String> sshCommand,
                       ProgressMeter meter, Cancellation cancellation) {
        List<String> argv = rsyncCommand(request, source.directory(), temp, sshCommand, source.totalBytes());
        AtomicLong sent = new AtomicLong(-1);
        Spawned.Exit exit = Spawned.run(argv, record -> {
            RsyncOutput.progressBytes(record).ifPresent(meter::update);
            RsyncOutput.bytesSent(record).ifPresent(sent::set);
        }, false, cancellation, deadline);
        if (exit.code() != 0) {
            if (exit.code() == 20 && cancellation.isCancelled()) {
                throw new TransportException(Reason.CANCELLED, "rsync was cancelled");
            }
            preflightFailure(request, source.totalBytes(), exit.stderr()).ifPresent(f -> {
                throw f;
            });
            throw sshFailure("rsync", request.target(), exit.code(), exit.stderr());
        }
        return sent.get() >= 0 ? sent.get() : source.totalBytes();
    }

    /** The precise error when the preflight in front of the rsync server refused (see {@link RemoteScripts}). */
    private Optional<TransportException> preflightFailure(TransferRequest request, long needed, String stderr) {
        Matcher m = PREFLIGHT.matcher(stderr);
        if (!m.find()) {
            return Optional.empty();
        }
        String where = request.target().host() + ":" + request.targetDirectory();
        String detail = m.group(2) == null ? "" : m.group(2).strip();
        switch (m.group(1)) {
            case "disk-full":
                return Optional.of(new TransportException(Reason.DISK_FULL, "the target " + where + " has " + detail
                        + " bytes free, the transfer needs " + needed));
            case "rsync-too-old":
                return Optional.of(new TransportException(Reason.PROGRAM_TOO_OLD, "rsync on " + request.target().host()
                        + " is version " + detail + "; at least " + minimumVersion
                        + " is needed (it has the path-traversal fixes)"));
            case "rsync-unknown":
                return Optional.of(new TransportException(Reason.PROGRAM_TOO_OLD, "cannot read the version of rsync on "
                        + request.target().host() + (detail.isEmpty() ? " (is it installed?)" : " from: " + detail)));
            default:
                return Optional.of(new TransportException(Reason.IO, "cannot create " + where + ": "
                        + SshFailures.lastLines(stderr, 3)));
        }
    }

    /**
     * The exact rsync argument list this transport spawns for the single file {@code request}
     * names, with its own ssh login instead of the shared connection, writing to
     * {@code destination} on the target instead of the temp name. Spawns nothing.
     *
     * <p>Public for the benchmark only ({@code bench/.../TransportBenchmark}), which derives its
     * plain-rsync baseline from it, so the baseline always runs what the transport runs; a
     * transfer never needs it.
     */
    public List<String> commandLineForBenchmark(TransferRequest request, String destination) {
        return rsyncCommand(request, false, destination);
    }

    /** The rsync argument list with its own login; visible for the tests that check what reaches execve. */
    List<String> rsyncCommand(TransferRequest request, boolean directory, String temp) {
        long needed = java.nio.file.Files.exists(request.source()) ? LocalSource.scan(request.source()).totalBytes() : 0;
        return rsyncCommand(request, directory, temp, sshBase(request.target()), needed);
    }

    /** The rsync argument list, its ssh being {@code sshCommand}, the target needing {@code needed} bytes free. */
    List<String> rsyncCommand(TransferRequest request, boolean directory, String temp, List<String> sshCommand,
                              long needed) {
        List<String> argv = new ArrayList<>();
        argv.add(rsyncProgram);
        if (directory) {
            argv.add("--recursive");
            argv.add("--links");
            argv.add("--safe-links");
        }
        argv.add("--perms");
        argv.add("--times");
        argv.add("--partial");
        if (directory) {
            // one file is flushed by the verification step, overlapped with its hash; a tree file by file here
            argv.add("--fsync");
        }
        argv.add("--no-human-readable");
        argv.add("--info=progress2");
        argv.add("--stats");
        argv.add("--timeout=" + Math.max(1, ioTimeout.toSeconds()));
        // the checks run in rsync's own session, just before the rsync server starts
        argv.add("--rsync-path=" + RemoteScripts.rsyncPreflight(request.targetDirectory(), needed,
                minimumVersion));
        // rsync counts --bwlimit in KiB/s
        request.bandwidthLimit().ifPresent(bps -> argv.add("--bwlimit=" + Math.max(1, bps / 1024)));
        argv.add("-e");
        argv.add(String.join(" ", sshCommand));
        argv.add("--");
        String src = source(request);
        argv.add(directory ? src + "/" : src);
        argv.add(request.target().user() + "@" + request.target().host() + ":" + temp + (directory ? "/" : ""));
        return argv;
    }

    private static String source(TransferRequest request) {
        return request.source().toAbsolutePath().normalize().toString();
    }

    /** The ssh command line for this transfer: the strict base, on the shared connection when there is one. */
    private List<String> sshCommand(Endpoint target, SshMaster master) {
        if (master == null) {
            return sshBase(target);
        }
        List<String> argv = new ArrayList<>(sshBase(target));
        argv.addAll(master.clientOptions());
        return argv;
    }

    private static String destination(Endpoint target) {
        return target.user() + "@" + target.host();
    }

    private TransportException sshFailure(String what, Endpoint target, int code, String stderr) {
        return SshFailures.classify(what, target, code, stderr,
                () -> HostKeys.offeredBy(target, ssh.knownHosts(), ssh.connectTimeout()));
    }

    /** The strict ssh command line shared by rsync's -e and the remote calls. */
    List<String> sshBase(Endpoint target) {
        return List.of(sshProgram, "-F", "/dev/null", "-p", String.valueOf(target.port()),
                "-i", ssh.privateKey().toString(),
                "-o", "IdentitiesOnly=yes",
                "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=yes",
                "-o", "UserKnownHostsFile=" + ssh.knownHosts(),
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "CheckHostIP=no",
                "-o", "UpdateHostKeys=no",
                "-o", "PasswordAuthentication=no",
                "-o", "Ciphers=" + CIPHERS,
                "-o", "KbdInteractiveAuthentication=no",
                "-o", "ConnectTimeout=" + Math.max(1, ssh.connectTimeout().toSeconds()),
                "-o", "ServerAliveInterval=15",
                "-o", "ServerAliveCountMax=4");
    }

    private Spawned.Exit runRemote(List<String> sshCommand, Endpoint target, RemoteCommand command,
                                   Cancellation cancellation, Duration limit) {
        List<String> argv = new ArrayList<>(sshCommand);
        argv.add("--");
        argv.add(destination(target));
        argv.add(command.render());
        Spawned.Exit exit = Spawned.run(argv, r -> {}, true, cancellation, limit);
        if (exit.code() != 0) {
            throw sshFailure("'" + command + "' on " + target.host(), target, exit.code(), exit.stderr());
        }
        return exit;
    }

    private void removeQuietly(List<String> sshCommand, Endpoint target, String temp) {
        try {
            runRemote(sshCommand, target, RemoteCommand.of("rm", "-rf", "--", temp), new Cancellation(), Duration.ofMinutes(1));
        } catch (TransportException ignored) {
            // best effort: nothing is under the final name either way
        }
    }

    /** Builds an {@link RsyncTransport}; only the SSH settings are required. */
    public static final class Builder {
        private final SshSettings ssh;
        private String rsyncProgram = "rsync";
        private String sshProgram = "ssh";
        private RemoteHash remoteHash = RemoteHash.AUTO;
        private boolean shareConnection = true;
        private RsyncVersion minimumVersion = RsyncVersion.MINIMUM;
        private Duration ioTimeout = Duration.ofSeconds(60);
        private Duration deadline = Duration.ofHours(24);
        private Consumer<String> beforeVerification = p -> {};

        private Builder(SshSettings ssh) {
            this.ssh = Objects.requireNonNull(ssh, "ssh");
        }

        /** The local rsync program; default {@code rsync} from PATH. */
        public Builder rsyncProgram(String program) {
            this.rsyncProgram = requireProgram(program);
            return this;
        }

        /** The local ssh program; default {@code ssh} from PATH. */
        public Builder sshProgram(String program) {
            this.sshProgram = requireProgram(program);
            return this;
        }

        /** How the target hashes the received file; default {@link RemoteHash#AUTO}. */
        public Builder remoteHash(RemoteHash remoteHash) {
            this.remoteHash = Objects.requireNonNull(remoteHash);
            return this;
        }

        /**
         * Whether the ssh calls of one transfer share one login (OpenSSH {@code ControlMaster},
         * socket in a private directory under {@code java.io.tmpdir}); default true. Off, each of
         * the four calls logs in on its own.
         */
        public Builder shareConnection(boolean share) {
            this.shareConnection = share;
            return this;
        }

        /** The lowest rsync accepted on either side; default 3.2.4. */
        public Builder minimumVersion(int major, int minor, int patch) {
            this.minimumVersion = new RsyncVersion(major, minor, patch);
            return this;
        }

        /** rsync's --timeout: give up when no data moves this long; default 60 s. */
        public Builder ioTimeout(Duration ioTimeout) {
            this.ioTimeout = Objects.requireNonNull(ioTimeout);
            return this;
        }

        /** The longest one rsync run may take; default 24 h. */
        public Builder deadline(Duration deadline) {
            this.deadline = Objects.requireNonNull(deadline);
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

        public RsyncTransport build() {
            ssh.requireFilesReadable();
            return new RsyncTransport(this);
        }

        private static String requireProgram(String program) {
            if (program == null || !program.matches("/?[a-zA-Z0-9_.+/-]+") || program.startsWith("-")) {
                throw new IllegalArgumentException("program must be a plain path, but was "
                        + dev.fleet.migration.core.Names.quote(program));
            }
            return program;
        }
    }
}
