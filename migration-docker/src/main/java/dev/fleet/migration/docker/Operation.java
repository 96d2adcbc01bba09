package dev.fleet.migration.docker;

import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.Progress;
import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.OperationRequest;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/** One running operation: its request, its progress, and the flag compensation uses to cancel it. */
final class Operation {

    /** The result of finished work. */
    record Result(Optional<ArchiveInfo> archive, Map<String, String> facts) {
        static Result facts(Map<String, String> facts) {
            return new Result(Optional.empty(), facts);
        }
    }

    /** The work of one operation kind; runs on a worker thread. */
    @FunctionalInterface
    interface Work {
        Result run(Operation op) throws Exception;
    }

    final OperationRequest request;
    final Cancellation cancellation = new Cancellation();
    private final Clock clock;
    private final long startedMillis;
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong total = new AtomicLong();

    Operation(OperationRequest request, Clock clock) {
        this.request = request;
        this.clock = clock;
        this.startedMillis = clock.millis();
    }

    void total(long bytes) {
        total.set(Math.max(0, bytes));
    }

    void add(long bytes) {
        done.addAndGet(bytes);
    }

    void set(long bytes) {
        done.set(bytes);
    }

    Progress progress() {
        long d = done.get();
        long t = Math.max(total.get(), 0);
        double seconds = Math.max(0.001, (clock.millis() - startedMillis) / 1000.0);
        return new Progress(d, t, d / seconds);
    }

    /** Throws when compensation cancelled this operation. */
    void checkCancelled(String what) {
        if (cancellation.isCancelled()) {
            throw new IllegalStateException(what + " was cancelled by compensation");
        }
    }
}
