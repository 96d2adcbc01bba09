package dev.fleet.migration.transport.internal;

import dev.fleet.migration.core.spi.TransferRequest;
import dev.fleet.migration.core.spi.TransportException;
import dev.fleet.migration.core.spi.TransportException.Reason;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The sha256 the target must match: the request's when it names one, otherwise the source
 * file's, hashed on its own thread while the transfer runs so verification waits on nothing.
 */
public final class LocalHash {
    private final CompletableFuture<String> future;

    private LocalHash(CompletableFuture<String> future) {
        this.future = future;
    }

    public static LocalHash expected(TransferRequest request, LocalSource source) {
        if (source.directory()) {
            return new LocalHash(CompletableFuture.completedFuture(""));
        }
        if (request.sha256().isPresent()) {
            return new LocalHash(CompletableFuture.completedFuture(request.sha256().get()));
        }
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(Hex.sha256(source.root()));
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        }, "transport-local-sha256");
        t.setDaemon(true);
        t.start();
        return new LocalHash(f);
    }

    public String get() {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransportException(Reason.CANCELLED, "interrupted while hashing the source", e);
        } catch (ExecutionException e) {
            throw new TransportException(Reason.IO, "cannot hash the source: " + e.getCause().getMessage(), e);
        }
    }
}
