package dev.fleet.migration.transport.internal;

import dev.fleet.migration.core.Progress;
import dev.fleet.migration.core.spi.ProgressListener;
import java.util.function.LongSupplier;

/**
 * Turns raw byte counts into {@link Progress} for one listener: never backwards, never above
 * the total, at most every {@code minIntervalNanos}, with the rate over the last second or so.
 * A listener that throws is ignored: progress must never break a transfer.
 */
public final class ProgressMeter {
    private static final long WINDOW_NANOS = 1_000_000_000L;
    private final ProgressListener listener;
    private final long total;
    private final LongSupplier nanoClock;
    private final long minIntervalNanos;
    private long done;
    private long lastEmitNanos = Long.MIN_VALUE;
    private long windowStartNanos;
    private long windowStartBytes;
    private double rate;

    public ProgressMeter(ProgressListener listener, long total, LongSupplier nanoClock, long minIntervalNanos) {
        this.listener = listener;
        this.total = total;
        this.nanoClock = nanoClock;
        this.minIntervalNanos = minIntervalNanos;
        this.windowStartNanos = nanoClock.getAsLong();
    }

    public ProgressMeter(ProgressListener listener, long total) {
        this(listener, total, System::nanoTime, 200_000_000L);
    }

    public long total() {
        return total;
    }

    public synchronized long done() {
        return done;
    }

    /** Adds bytes that just arrived. */
    public synchronized void add(long bytes) {
        update(done + bytes);
    }

    /** Sets the absolute count (a program's own counter); smaller values are ignored. */
    public synchronized void update(long absolute) {
        long now = nanoClock.getAsLong();
        long clamped = Math.min(Math.max(absolute, done), total);
        done = clamped;
        long windowNanos = now - windowStartNanos;
        if (windowNanos >= WINDOW_NANOS / 4) {
            double instant = (done - windowStartBytes) * 1e9 / windowNanos;
            rate = rate == 0 ? instant : 0.5 * rate + 0.5 * instant;
            if (windowNanos >= WINDOW_NANOS) {
                windowStartNanos = now;
                windowStartBytes = done;
            }
        }
        if (lastEmitNanos == Long.MIN_VALUE || now - lastEmitNanos >= minIntervalNanos) {
            emit(now);
        }
    }

    /** Reports the final state: everything done. */
    public synchronized void finish() {
        done = total;
        emit(nanoClock.getAsLong());
    }

    private void emit(long now) {
        lastEmitNanos = now;
        try {
            listener.onProgress(new Progress(done, total, Math.max(0, rate)));
        } catch (RuntimeException ignored) {
            // a listener's bug must not fail the transfer
        }
    }
}
