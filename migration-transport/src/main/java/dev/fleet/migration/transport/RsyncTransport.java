package dev.fleet.migration.transport;

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
import dev.fleet.migration.transport.internal.RemoteScripts;
import dev.fleet.migration.transport.internal.ProgressMeter;
import dev.fleet.migration.transport.internal.RemoteCommand;
import dev.fleet.migration.transport.internal.RsyncOutput;
import dev.fleet.migration.transport.internal.RsyncVersion;
import dev.fleet.migration.transport.internal.Spawned;
import dev.fleet.migration.transport.internal.SshFailures;
import dev.fleet.migration.transport.internal.TempNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Pushes with the {@code rsync} program over {@code ssh}, both spawned from argument lists.
 *
 * <p>Flow per transfer: one ssh call checks the target (creates the target directory, reads
 * its free space and the remote rsync's version); rsync sends into a fixed temp name
 * ({@code .NAME.fleet-part}) with {@code --partial}, so a cut transfer leaves what arrived
 * there and the next attempt sends only the rest; one ssh call hashes the temp file on the
 * target; one renames it to the final name. The ssh command is strict: only the configured
 * key, only the configured known-hosts file, {@code StrictHostKeyChecking=yes}, no user or
 * system ssh config.
 *
 * <p>Thread-safe: every transfer spawns its own processes.
 */
public final class RsyncTransport implements Transport {
    private final SshSettings ssh;
    private final String rsyncProgram;
    private final String sshProgram;
    private final RemoteHash remoteHash;
    private final RsyncVersion minimumVersion;
    private final Duration ioTimeout;
    private final Duration deadline;
    private final Consumer<String> beforeVerification;
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
        try {
            preflight(target, request.targetDirectory(), source.totalBytes(), cancellation);
            ProgressMeter meter = new ProgressMeter(progress, source.totalBytes());
            long sent = rsync(request, source, temp, meter, cancellation);
            Optional<String> sha = Optional.empty();
            if (!source.directory()) {
                beforeVerification.accept(temp);
                String actual = remoteSha256(target, temp, cancellation);
                String expected = localSha.get();
                if (!actual.equals(expected)) {
                    runRemote(target, RemoteCommand.of("rm", "-f", "--", temp), new Cancellation(), Duration.ofMinutes(1));
                    throw new TransportException(Reason.CHECKSUM_MISMATCH, "sha256 of " + temp + " on "
                            + target.host() + " is " + actual + ", expected " + expected + "; the copy was removed");
                }
                sha = Optional.of(actual);
            }
            cancellation.check("the transfer of " + request.name());
            runRemote(target, RemoteScripts.finish(request, temp, source.directory()), cancellation, Duration.ofMinutes(5));
            meter.finish();
            return new TransferResult(finalPath, source.totalBytes(), sent, sha,
                    Duration.ofNanos(System.nanoTime() - started));
        } catch (TransportException e) {
            if (e.reason() == Reason.CANCELLED) {
                removeQuietly(target, temp);
            }
            throw e;
        }
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

    /** Creates the target directory, checks free space and the remote rsync, in one login. */
    private void preflight(Endpoint target, String dir, long needed, Cancellation cancellation) {
        RemoteCommand cmd = RemoteCommand.of("mkdir", "-p", "--", dir)
                .and(RemoteCommand.of("df", "-P", "-B1", "--", dir))
                .and(RemoteCommand.of("rsync", "--version"));
        Spawned.Exit exit = runRemote(target, cmd, cancellation, Duration.ofMinutes(2));
        String[] lines = exit.stdout().split("\n");
        OptionalLong available = OptionalLong.empty();
        for (int i = 0; i + 1 < lines.length; i++) {
            if (lines[i].startsWith("Filesystem")) {
                String[] f = lines[i + 1].trim().split("\\s+");
                if (f.length >= 4 && f[3].matches("\\d+")) {
                    available = OptionalLong.of(Long.parseLong(f[3]));
                }
            }
        }
        RsyncVersion remote = RsyncVersion.parse(exit.stdout()).orElseThrow(() -> new TransportException(
                Reason.PROGRAM_TOO_OLD, "cannot read the version of rsync on " + target.host()));
        requireAtLeast(remote, "rsync on " + target.host());
        if (available.isPresent() && available.getAsLong() < needed) {
            throw new TransportException(Reason.DISK_FULL, "the target " + target.host() + ":" + dir + " has "
                    + available.getAsLong() + " bytes free, the transfer needs " + needed);
        }
    }

    private long rsync(TransferRequest request, LocalSource source, String temp, ProgressMeter meter,
                       Cancellation cancellation) {
        List<String> argv = rsyncCommand(request, source.directory(), temp);
        AtomicLong sent = new AtomicLong(-1);
        Spawned.Exit exit = Spawned.run(argv, record -> {
            RsyncOutput.progressBytes(record).ifPresent(meter::update);
            RsyncOutput.bytesSent(record).ifPresent(sent::set);
        }, false, cancellation, deadline);
        if (exit.code() != 0) {
            if (exit.code() == 20 && cancellation.isCancelled()) {
                throw new TransportException(Reason.CANCELLED, "rsync was cancelled");
            }
            throw SshFailures.classify("rsync", request.target(), exit.code(), exit.stderr(),
                    () -> HostKeys.offeredBy(request.target(), ssh.knownHosts(), ssh.connectTimeout()));
        }
        return sent.get() >= 0 ? sent.get() : source.totalBytes();
    }

    /** The rsync argument list; visible for the tests that check what reaches execve. */
    List<String> rsyncCommand(TransferRequest request, boolean directory, String temp) {
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
        argv.add("--fsync");
        argv.add("--no-human-readable");
        argv.add("--info=progress2");
        argv.add("--stats");
        argv.add("--timeout=" + Math.max(1, ioTimeout.toSeconds()));
        // rsync counts --bwlimit in KiB/s
        request.bandwidthLimit().ifPresent(bps -> argv.add("--bwlimit=" + Math.max(1, bps / 1024)));
        argv.add("-e");
        argv.add(String.join(" ", sshBase(request.target())));
        argv.add("--");
        String src = source(request);
        argv.add(directory ? src + "/" : src);
        argv.add(request.target().user() + "@" + request.target().host() + ":" + temp + (directory ? "/" : ""));
        return argv;
    }

    private static String source(TransferRequest request) {
        return request.source().toAbsolutePath().normalize().toString();
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
                "-o", "KbdInteractiveAuthentication=no",
                "-o", "ConnectTimeout=" + Math.max(1, ssh.connectTimeout().toSeconds()),
                "-o", "ServerAliveInterval=15",
                "-o", "ServerAliveCountMax=4");
    }

    private Spawned.Exit runRemote(Endpoint target, RemoteCommand command, Cancellation cancellation,
                                   Duration limit) {
        List<String> argv = new ArrayList<>(sshBase(target));
        argv.add("--");
        argv.add(target.user() + "@" + target.host());
        argv.add(command.render());
        Spawned.Exit exit = Spawned.run(argv, r -> {}, true, cancellation, limit);
        if (exit.code() != 0) {
            throw SshFailures.classify("'" + command + "' on " + target.host(), target, exit.code(), exit.stderr(),
                    () -> HostKeys.offeredBy(target, ssh.knownHosts(), ssh.connectTimeout()));
        }
        return exit;
    }

    private String remoteSha256(Endpoint target, String path, Cancellation cancellation) {
        Spawned.Exit exit = runRemote(target, RemoteCommand.of(remoteHash.command(path)), cancellation,
                Duration.ofHours(2));
        return Hex.digestIn(exit.stdout()).orElseThrow(() -> new TransportException(Reason.IO,
                "cannot read a sha256 from " + remoteHash + " on " + target.host() + ": "
                        + SshFailures.lastLines(exit.stdout(), 2)));
    }

    private void removeQuietly(Endpoint target, String temp) {
        try {
            runRemote(target, RemoteCommand.of("rm", "-rf", "--", temp), new Cancellation(), Duration.ofMinutes(1));
        } catch (TransportException ignored) {
            // best effort: nothing is under the final name either way
        }
    }

    /** Builds an {@link RsyncTransport}; only the SSH settings are required. */
    public static final class Builder {
        private final SshSettings ssh;
        private String rsyncProgram = "rsync";
        private String sshProgram = "ssh";
        private RemoteHash remoteHash = RemoteHash.SHA256SUM;
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

        /** How the target hashes the received file; default {@link RemoteHash#SHA256SUM}. */
        public Builder remoteHash(RemoteHash remoteHash) {
            this.remoteHash = Objects.requireNonNull(remoteHash);
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
