package dev.fleet.migration.transport.internal;

import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.TransportException;
import dev.fleet.migration.core.spi.TransportException.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The sha256 of a file on this node, read back from the file system. {@code openssl dgst} when
 * it is on the PATH: it uses the CPU's SHA instructions from the first byte, where the JVM's
 * digest reaches that speed only once the JIT has compiled it (a cold 1 GiB took about 1.5 times
 * as long here). Otherwise, or when openssl fails to start, the JVM's own digest in 1 MiB slices.
 * Either way cancellation is honoured while it reads.
 */
public final class LocalDigest {
    private static final Optional<Path> OPENSSL = onPath("openssl");

    private LocalDigest() {}

    public static String sha256(Path file, Cancellation cancellation) {
        if (OPENSSL.isPresent()) {
            Spawned.Exit exit = Spawned.run(List.of(OPENSSL.get().toString(), "dgst", "-sha256", "-r",
                    file.toAbsolutePath().toString()), r -> {}, true, cancellation, Duration.ofHours(2));
            Optional<String> digest = Hex.digestIn(exit.stdout());
            if (exit.code() == 0 && digest.isPresent()) {
                return digest.get();
            }
            if (!Files.isReadable(file)) {
                throw new TransportException(Reason.IO, "cannot read " + file + ": "
                        + SshFailures.lastLines(exit.stderr(), 2));
            }
            // an openssl that cannot run here: the JVM can
        }
        return inProcess(file, cancellation);
    }

    static String inProcess(Path file, Cancellation cancellation) {
        MessageDigest digest = Hex.sha256();
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buffer) >= 0) {
                cancellation.check("hashing " + file);
                buffer.flip();
                digest.update(buffer);
                buffer.clear();
            }
        } catch (IOException e) {
            throw new TransportException(Reason.IO, "cannot read " + file + ": " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static Optional<Path> onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(":")) {
            if (dir.startsWith("/")) {
                Path p = Path.of(dir, program);
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }
}
