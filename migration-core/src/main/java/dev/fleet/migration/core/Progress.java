package dev.fleet.migration.core;

import java.time.Duration;
import java.util.Optional;

/**
 * How far the running step is: bytes done of bytes total (0 when unknown) and the current rate.
 */
public record Progress(long bytesDone, long bytesTotal, double bytesPerSecond) {
    public static final Progress NONE = new Progress(0, 0, 0);

    public Progress {
        if (bytesDone < 0 || bytesTotal < 0 || bytesPerSecond < 0 || Double.isNaN(bytesPerSecond)) {
            throw new InvalidInputException("progress", bytesDone + "/" + bytesTotal + "@" + bytesPerSecond,
                    "must have non-negative bytes and rate");
        }
    }

    /** Time left at the current rate, when both the total and a rate are known. */
    public Optional<Duration> eta() {
        if (bytesTotal == 0 || bytesPerSecond <= 0 || bytesDone >= bytesTotal) {
            return bytesTotal > 0 && bytesDone >= bytesTotal ? Optional.of(Duration.ZERO) : Optional.empty();
        }
        double seconds = (bytesTotal - bytesDone) / bytesPerSecond;
        return Optional.of(Duration.ofMillis((long) Math.ceil(seconds * 1000)));
    }

    /** Fraction done in [0, 1], or 0 when the total is unknown. */
    public double fraction() {
        return bytesTotal == 0 ? 0 : Math.min(1.0, (double) bytesDone / bytesTotal);
    }
}
