package dev.fleet.migration.transport;

import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.ProgressListener;
import dev.fleet.migration.core.spi.TransferRequest;
import dev.fleet.migration.core.spi.TransferResult;
import dev.fleet.migration.core.spi.Transport;
import dev.fleet.migration.core.spi.TransportException;
import dev.fleet.migration.core.spi.TransportException.Reason;
import dev.fleet.migration.transport.internal.LocalDigest;
import dev.fleet.migration.transport.internal.LocalHash;
import dev.fleet.migration.transport.internal.LocalSource;
import dev.fleet.migration.transport.internal.ProgressMeter;
import dev.fleet.migration.transport.internal.SshFailures;
import dev.fleet.migration.transport.internal.TempNames;
import dev.fleet.migration.transport.internal.Throttle;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * For nodes that mount the same directory (NFS or any shared path): the target directory is a
 * local path here. The file is copied under a temp name in the target directory, fsynced,
 * hashed, and renamed, so a reader on the other node never sees a partial file under the final
 * name. When the source already is the final file, nothing is copied; when it lies in the
 * target directory under another name, it is hard-linked, not copied.
 *
 * <p>The copy runs in the kernel ({@link FileChannel#transferTo}) in 16 MiB slices, which is
 * where cancellation, the bandwidth limit and progress are checked. A cut copy resumes at the
 * temp file's length. Once the bytes are written, the temp file is flushed to disk (one fsync)
 * on one thread while it is read back and hashed ({@link LocalDigest}) on another: the flush
 * waits on the disk, the hash on the CPU, so the pair costs about what the hash alone does.
 *
 * <p>Thread-safe.
 */
public final class SharedDirectoryTransport implements Transport {
    private static final long SLICE = 16L << 20;
    private final Map<String, Path> mounts;
    private final Consumer<String> beforeVerification;

    private SharedDirectoryTransport(Builder b) {
        this.mounts = Map.copyOf(b.mounts);
        this.beforeVerification = b.beforeVerification;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return "shared";
    }

    @Override
    public TransferResult transfer(TransferRequest request, ProgressListener progress, Cancellation cancellation) {
        long started = System.nanoTime();
        LocalSource source = LocalSource.forTransfer(request, progress, cancellation);
        Path dir = localDirectory(request.targetDirectory());
        Path finalPath = dir.resolve(request.name());
        Path temp = dir.resolve(TempNames.partial(request.name()));
        ProgressMeter meter = new ProgressMeter(progress, source.totalBytes());
        Optional<Throttle> throttle = request.bandwidthLimit().isPresent()
                ? Optional.of(new Throttle(request.bandwidthLimit().getAsLong())) : Optional.empty();
        try {
            Files.createDirectories(dir);
            if (source.directory()) {
                long sent = copyDirectory(source, temp, meter, throttle, cancellation, request);
                cancellation.check("the transfer of " + request.name());
                replaceDirectory(temp, finalPath, dir.resolve(TempNames.old(request.name())));
                meter.finish();
                return new TransferResult(request.remotePath(), source.totalBytes(), sent, Optional.empty(),
                        Duration.ofNanos(System.nanoTime() - started));
            }
            LocalHash expected = LocalHash.expected(request, source);
            if (Files.exists(finalPath) && Files.isSameFile(source.root(), finalPath)) {
                // the archive directory itself is shared: the file already is where it must be
                String actual = verify(finalPath, expected, false, false, cancellation);
                meter.finish();
                return new TransferResult(request.remotePath(), source.totalBytes(), 0, Optional.of(actual),
                        Duration.ofNanos(System.nanoTime() - started));
            }
            long sent = 0;
            boolean resumed;
            if (source.root().toRealPath().getParent().equals(dir.toRealPath())) {
                Files.deleteIfExists(temp);
                Files.createLink(temp, source.root());
                resumed = false;
            } else {
                long existing = copyFile(source.root(), temp, meter, throttle, cancellation, request, false);
                resumed = existing > 0;
                sent = source.totalBytes() - existing;
            }
            beforeVerification.accept(temp.toString());
            String actual;
            try {
                actual = verify(temp, expected, true, true, cancellation);
            } catch (TransportException e) {
                if (e.reason() != Reason.CHECKSUM_MISMATCH || !resumed) {
                    throw e;
                }
                // what an earlier attempt left was not a prefix of this file: start over once
                sent += copyFile(source.root(), temp, meter, throttle, cancellation, request, false) == 0
                        ? source.totalBytes() : 0;
                beforeVerification.accept(temp.toString());
                actual = verify(temp, expected, true, true, cancellation);
            }
            cancellation.check("the transfer of " + request.name());
            Files.move(temp, finalPath, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            fsyncDirectory(dir);
            meter.finish();
            return new TransferResult(request.remotePath(), source.totalBytes(), sent, Optional.of(actual),
                    Duration.ofNanos(System.nanoTime() - started));
        } catch (TransportException e) {
            if (e.reason() == Reason.CANCELLED) {
                deleteQuietly(temp);
            }
            throw e;
        } catch (AtomicMoveNotSupportedException e) {
            throw new TransportException(Reason.IO, "cannot rename atomically in " + dir + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw ioFailure("transferring to " + dir, e);
        }
    }

    private Path localDirectory(String targetDirectory) {
        String best = null;
        for (String prefix : mounts.keySet()) {
            boolean under = targetDirectory.equals(prefix) || targetDirectory.startsWith(prefix.endsWith("/")
                    ? prefix : prefix + "/");
            if (under && (best == null || prefix.length() > best.length())) {
                best = prefix;
            }
        }
        if (best == null) {
            return Path.of(targetDirectory);
        }
        String rest = targetDirectory.substring(best.length()).replaceAll("^/+", "");
        return rest.isEmpty() ? mounts.get(best) : mounts.get(best).resolve(rest);
    }

    /**
     * Copies into {@code temp}, resuming at its length; returns how many bytes were already there.
     * Flushes it to disk when {@code flush}; otherwise the verification does.
     */
    private long copyFile(Path source, Path temp, ProgressMeter meter, Optional<Throttle> throttle,
                          Cancellation cancellation, TransferRequest request, boolean flush) throws IOException {
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            long size = in.size();
            long existing = out.size();
            if (existing > size) {
                out.truncate(0);
                existing = 0;
            }
            long needed = size - existing;
            long usable = Files.getFileStore(temp).getUsableSpace();
            if (usable < needed) {
                throw new TransportException(Reason.DISK_FULL, "the target " + temp.getParent() + " has " + usable
                        + " bytes free, the transfer needs " + needed);
            }
            meter.add(existing);
            long position = existing;
            out.position(position);
            while (position < size) {
                cancellation.check("the transfer of " + request.name());
                long slice = Math.min(SLICE, size - position);
                if (throttle.isPresent()) {
                    try {
                        throttle.get().acquire(slice);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new TransportException(Reason.CANCELLED, "the transfer was interrupted", e);
                    }
                }
                long n = in.transferTo(position, slice, out);
                if (n <= 0) {
                    throw new TransportException(Reason.IO, source + " ended early at " + position);
                }
                position += n;
                meter.add(n);
            }
            if (flush) {
                out.force(true);
            }
            return existing;
        }
    }

    private long copyDirectory(LocalSource source, Path temp, ProgressMeter meter, Optional<Throttle> throttle,
                               Cancellation cancellation, TransferRequest request) throws IOException {
        long usable = Files.getFileStore(temp.getParent()).getUsableSpace();
        if (usable < source.totalBytes()) {
            throw new TransportException(Reason.DISK_FULL, "the target " + temp.getParent() + " has " + usable
                    + " bytes free, the transfer needs " + source.totalBytes());
        }
        Files.createDirectories(temp);
        for (Path d : source.directories()) {
            Files.createDirectories(temp.resolve(source.relative(d)));
        }
        long sent = 0;
        for (Path f : source.files()) {
            Path to = temp.resolve(source.relative(f));
            long size = Files.size(f);
            if (Files.isRegularFile(to, LinkOption.NOFOLLOW_LINKS) && Files.size(to) == size
                    && Files.getLastModifiedTime(to).equals(Files.getLastModifiedTime(f))) {
                meter.add(size); // complete from an earlier attempt
                continue;
            }
            sent += size - copyFile(f, to, meter, throttle, cancellation, request, true);
            Files.setLastModifiedTime(to, Files.getLastModifiedTime(f));
        }
        return sent;
    }

    private static void replaceDirectory(Path temp, Path finalPath, Path old) throws IOException {
        deleteRecursively(old);
        if (Files.exists(finalPath, LinkOption.NOFOLLOW_LINKS)) {
            Files.move(finalPath, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(temp, finalPath, StandardCopyOption.ATOMIC_MOVE);
        deleteRecursively(old);
        fsyncDirectory(finalPath.getParent());
    }

    /**
     * Hashes {@code file} as read back from the file system and compares; when {@code flush}, the
     * file is fsynced on another thread meanwhile, and the result waits for both.
     */
    private static String verify(Path file, LocalHash expected, boolean flush, boolean removeOnMismatch,
                                 Cancellation cancellation) throws IOException {
        CompletableFuture<Void> flushed = flush ? flushAsync(file) : CompletableFuture.completedFuture(null);
        String actual;
        try {
            actual = LocalDigest.sha256(file, cancellation);
        } finally {
            awaitFlush(flushed, file);
        }
        String want = expected.get();
        if (!actual.equals(want)) {
            if (removeOnMismatch) {
                Files.deleteIfExists(file);
            }
            throw new TransportException(Reason.CHECKSUM_MISMATCH, "sha256 of " + file + " is " + actual
                    + ", expected " + want + (removeOnMismatch ? "; the copy was removed" : ""));
        }
        return actual;
    }

    private static CompletableFuture<Void> flushAsync(Path file) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.force(true);
                f.complete(null);
            } catch (IOException | RuntimeException e) {
                f.completeExceptionally(e);
            }
        }, "shared-dir-fsync");
        t.setDaemon(true);
        t.start();
        return f;
    }

    private static void awaitFlush(CompletableFuture<Void> flushed, Path file) throws IOException {
        try {
            flushed.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransportException(Reason.CANCELLED, "interrupted while flushing " + file, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new TransportException(Reason.IO, "cannot flush " + file + ": " + e.getCause(), e.getCause());
        }
    }

    private static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // some filesystems cannot open a directory for fsync; the rename is still atomic
        }
    }

    private static TransportException ioFailure(String what, IOException e) {
        String message = e instanceof FileSystemException fse && fse.getReason() != null
                ? fse.getFile() + ": " + fse.getReason() : String.valueOf(e.getMessage());
        Reason reason = SshFailures.reasonIn(message).filter(r -> r == Reason.DISK_FULL).orElse(Reason.IO);
        return new TransportException(reason, what + ": " + message, e);
    }

    private static void deleteQuietly(Path p) {
        try {
            deleteRecursively(p);
        } catch (IOException ignored) {
            // best effort: nothing is under the final name either way
        }
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(q);
            }
        }
    }

    /** Builds a {@link SharedDirectoryTransport}. */
    public static final class Builder {
        private final Map<String, Path> mounts = new LinkedHashMap<>();
        private Consumer<String> beforeVerification = p -> {};

        private Builder() {}

        /**
         * Where a target directory is mounted on this node, when not at the same path: a
         * request for {@code targetDirectory} or a directory below it lands under
         * {@code localPath}. Without a mount, target directories are used as they are.
         */
        public Builder mount(String targetDirectory, Path localPath) {
            if (targetDirectory == null || !targetDirectory.startsWith("/")) {
                throw new IllegalArgumentException("targetDirectory must be absolute, but was "
                        + dev.fleet.migration.core.Names.quote(targetDirectory));
            }
            mounts.put(targetDirectory, localPath.toAbsolutePath().normalize());
            return this;
        }

        /**
         * A fault-injection seam for tests: called with the temp path after the bytes arrived
         * and before they are hashed.
         */
        public Builder beforeVerification(Consumer<String> hook) {
            this.beforeVerification = Objects.requireNonNull(hook);
            return this;
        }

        public SharedDirectoryTransport build() {
            return new SharedDirectoryTransport(this);
        }
    }
}
