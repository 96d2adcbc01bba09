package dev.fleet.migration.docker;

import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.ProgressListener;
import dev.fleet.migration.core.spi.TransferRequest;
import dev.fleet.migration.core.spi.TransferResult;
import dev.fleet.migration.core.spi.Transport;
import dev.fleet.migration.core.spi.TransportException;
import dev.fleet.migration.docker.archive.Digests;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Optional;

/**
 * Both test "nodes" live on this machine, so a transfer is a local copy: to {@code <name>.part},
 * hashed on the way, verified, then renamed. Enough for the agent's tests; the real transports
 * live in migration-transport.
 */
final class LocalCopyTransport implements Transport {
    @Override
    public String name() {
        return "local-copy";
    }

    @Override
    public TransferResult transfer(TransferRequest request, ProgressListener progress, Cancellation cancellation) {
        long started = System.nanoTime();
        Path target = Path.of(request.remotePath());
        Path part = target.resolveSibling(request.name() + ".part");
        MessageDigest sha = Digests.sha256();
        long size = 0;
        try {
            Files.createDirectories(target.getParent());
            try (InputStream in = Files.newInputStream(request.source());
                 OutputStream out = new DigestOutputStream(Files.newOutputStream(part), sha)) {
                byte[] buf = new byte[1 << 20];
                int n;
                while ((n = in.read(buf)) > 0) {
                    cancellation.check("transfer of " + request.name());
                    out.write(buf, 0, n);
                    size += n;
                    progress.onProgress(new dev.fleet.migration.core.Progress(size, 0, 0));
                }
            }
            String got = Digests.hex(sha);
            if (request.sha256().isPresent() && !request.sha256().get().equals(got)) {
                Files.deleteIfExists(part);
                throw new TransportException(TransportException.Reason.CHECKSUM_MISMATCH,
                        "expected " + request.sha256().get() + " but the copy has " + got);
            }
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return new TransferResult(target.toString(), size, size, Optional.of(got),
                    Duration.ofNanos(System.nanoTime() - started));
        } catch (IOException e) {
            throw new TransportException(TransportException.Reason.IO, e.getMessage(), e);
        }
    }
}
