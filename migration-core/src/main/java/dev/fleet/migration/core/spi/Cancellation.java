package dev.fleet.migration.core.spi;

import java.util.concurrent.atomic.AtomicBoolean;

/** A flag long work polls; once cancelled, the work stops and leaves nothing under a final name. */
public final class Cancellation {
    private final AtomicBoolean cancelled = new AtomicBoolean();

    public void cancel() {
        cancelled.set(true);
    }

    public boolean isCancelled() {
        return cancelled.get();
    }

    /** @throws TransportException with {@link TransportException.Reason#CANCELLED} once cancelled */
    public void check(String what) {
        if (isCancelled()) {
            throw new TransportException(TransportException.Reason.CANCELLED, what + " was cancelled");
        }
    }
}
