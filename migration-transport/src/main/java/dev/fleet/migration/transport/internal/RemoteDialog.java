package dev.fleet.migration.transport.internal;

import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.TransportException;
import dev.fleet.migration.core.spi.TransportException.Reason;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The verification of one received file, in one remote session, as a two-phase commit. The
 * session is opened while the bytes are still on their way and its script ({@link #SCRIPT})
 * waits; once every byte arrived we say {@code verify}: the target flushes the temp file and
 * hashes it as read back, prints the digest and waits again; we compare it with the expected
 * sha256, check for cancellation, and only then answer {@code commit} (rename to the final name,
 * sync the directory) or {@code discard} (remove the temp file). If we go away or say anything
 * else, at either step, the script ends without touching anything, so a cancelled or failed
 * transfer never leaves a file under the final name.
 *
 * <p>Why: every session starts the login user's shell on the target, whose start-up files can
 * cost more than the key exchange (0.3–0.5 s on the test machine, where root's .bashrc runs
 * pyenv). One session instead of one to hash and one to rename, started early so that cost
 * overlaps the transfer instead of following it. Hashing itself still starts only after the
 * last byte was written.
 */
public final class RemoteDialog implements AutoCloseable {
    /**
     * Positional parameters: temp path, final path, directory, then the hash program's argument
     * list. Fixed text: no value is ever part of the script.
     */
    static final String SCRIPT = "t=$1; f=$2; d=$3; shift 3; "
            + "IFS= read -r go || exit 0; [ \"$go\" = verify ] || exit 0; "
            + "sync -- \"$t\" & s=$!; "
            + "\"$@\" || { r=$?; wait \"$s\"; exit \"$r\"; }; "
            + "wait \"$s\" || exit \"$?\"; "
            + "echo fleet-verified; "
            + "IFS= read -r go || exit 0; "
            + "case $go in "
            + "commit) mv -f -T -- \"$t\" \"$f\" && sync -- \"$d\" && echo fleet-committed;; "
            + "discard) rm -f -- \"$t\" && echo fleet-discarded;; "
            + "esac";
    private static final String END = "\u0000end";
    private final OutputStream stdin;
    private final Supplier<OptionalInt> exitStatus;
    private final Supplier<String> stderr;
    private final Runnable kill;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();

    /**
     * @param stdout     the remote script's stdout
     * @param stdin      its stdin
     * @param exitStatus its exit status once it ended
     * @param stderr     what it printed on stderr so far
     * @param kill       ends the session at once
     */
    public RemoteDialog(InputStream stdout, OutputStream stdin, Supplier<OptionalInt> exitStatus,
                        Supplier<String> stderr, Runnable kill) {
        this.stdin = stdin;
        this.exitStatus = exitStatus;
        this.stderr = stderr;
        this.kill = kill;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(stdout, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the session ended
            } finally {
                lines.add(END);
            }
        }, "remote-dialog-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /** The command that runs {@link #SCRIPT} for {@code temp}. */
    public static RemoteCommand command(String temp, String finalPath, String directory, List<String> hash) {
        List<String> argv = new ArrayList<>(List.of("sh", "-c", SCRIPT, "sh", temp, finalPath, directory));
        argv.addAll(hash);
        return RemoteCommand.of(argv);
    }

    /**
     * Tells the target that every byte arrived, and waits until it flushed and hashed the file;
     * returns the digest it printed.
     *
     * @throws TransportException CANCELLED (the session is killed: nothing is renamed), IO or
     *                            DISK_FULL when the script failed, IO on the deadline
     */
    public String awaitDigest(String what, Cancellation cancellation, Duration deadline) {
        cancellation.check(what);
        answer("verify", what);
        awaitLine("fleet-verified", what, cancellation, deadline);
        for (String line : seen) {
            Optional<String> digest = Hex.digestIn(line);
            if (digest.isPresent()) {
                return digest.get();
            }
        }
        throw new TransportException(Reason.IO, "cannot read a sha256 from " + what + ": "
                + SshFailures.lastLines(String.join("\n", seen), 2));
    }

    /** Renames the verified file to its final name; not cancellable: this is the commit point. */
    public void commit(String what, Duration deadline) {
        answer("commit", what);
        awaitLine("fleet-committed", what, new Cancellation(), deadline);
    }

    /** Removes the temp file (best effort: a failure to remove is not the error to report). */
    public void discard(String what, Duration deadline) {
        try {
            answer("discard", what);
            awaitLine("fleet-discarded", what, new Cancellation(), deadline);
        } catch (TransportException ignored) {
            // the mismatch is what matters; a temp file left behind is replaced by the next attempt
        }
    }

    private void answer(String word, String what) {
        try {
            stdin.write((word + "\n").getBytes(StandardCharsets.US_ASCII));
            stdin.flush();
        } catch (IOException e) {
            TransportException failure = failed(what, word);
            failure.addSuppressed(e);
            throw failure;
        }
    }

    private void awaitLine(String marker, String what, Cancellation cancellation, Duration deadline) {
        long until = System.nanoTime() + deadline.toNanos();
        while (true) {
            if (cancellation.isCancelled()) {
                kill.run();
                throw new TransportException(Reason.CANCELLED, what + " was cancelled");
            }
            if (System.nanoTime() - until > 0) {
                kill.run();
                throw new TransportException(Reason.IO, what + " did not finish within " + deadline);
            }
            String line;
            try {
                line = lines.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                kill.run();
                Thread.currentThread().interrupt();
                throw new TransportException(Reason.CANCELLED, what + " was interrupted", e);
            }
            if (line == null) {
                continue;
            }
            if (line.equals(END)) {
                lines.add(END);
                throw failed(what, marker);
            }
            if (line.equals(marker)) {
                return;
            }
            if (seen.size() < 100) {
                seen.add(line);
            }
        }
    }

    private TransportException failed(String what, String marker) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        OptionalInt status = exitStatus.get();
        while (status.isEmpty() && System.nanoTime() - until < 0) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            status = exitStatus.get();
        }
        // the process has exited, but the thread draining its stderr may not have read the last
        // lines yet: wait until the text stops growing (at most a second, only on this failure path)
        String err = stderr.get();
        long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        for (int quiet = 0; quiet < 3 && System.nanoTime() - settle < 0; ) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            String again = stderr.get();
            quiet = again.equals(err) && !err.isEmpty() ? quiet + 1 : 0;
            err = again;
        }
        Reason reason = SshFailures.reasonIn(err).orElse(Reason.IO);
        return new TransportException(reason, what + " ended" + (status.isPresent() ? " with exit code "
                + status.getAsInt() : "") + " before '" + marker + "': " + SshFailures.lastLines(err, 4));
    }

    /** Ends the session; without a "commit" before, nothing was renamed. */
    @Override
    public void close() {
        try {
            stdin.close();
        } catch (IOException ignored) {
            // already gone
        }
    }
}
