package dev.fleet.migration.transport.internal;

import java.util.concurrent.locks.LockSupport;

/**
 * A byte-rate limit: {@link #acquire(long)} blocks just long enough that the bytes passed so
 * far never run ahead of {@code bytesPerSecond} by more than a small burst. No polling: it
 * parks once for the exact time the debt needs.
 */
public final class Throttle {
    private final double bytesPerNano;
    private final long burst;
    private final long startNanos = System.nanoTime();
    private long granted;

    public Throttle(long bytesPerSecond) {
        this.bytesPerNano = bytesPerSecond / 1e9;
        this.burst = Math.max(16 * 1024, bytesPerSecond / 20);
    }

    public synchronized void acquire(long bytes) throws InterruptedException {
        granted += bytes;
        long due = startNanos + (long) ((granted - burst) / bytesPerNano);
        long wait = due - System.nanoTime();
        if (wait > 0) {
            LockSupport.parkNanos(wait);
            long remaining = due - System.nanoTime();
            if (remaining > 0) {
                // a spurious wake-up: park once more for what is left (bounded by `due`)
                LockSupport.parkNanos(remaining);
            }
        }
        if (Thread.interrupted()) {
            throw new InterruptedException("throttled transfer interrupted");
        }
    }
}
