package dev.fleet.migration.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/** When a step or an operation started and, once it has, when it ended. */
public record Span(Instant start, Optional<Instant> end) {
    public Span {
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(end, "end");
        if (end.isPresent() && end.get().isBefore(start)) {
            throw new IllegalArgumentException("a span cannot end (" + end.get() + ") before it starts (" + start + ")");
        }
    }

    public static Span startedAt(Instant start) {
        return new Span(start, Optional.empty());
    }

    public Span endedAt(Instant when) {
        return new Span(start, Optional.of(when));
    }

    public boolean isFinished() {
        return end.isPresent();
    }

    public Optional<Duration> duration() {
        return end.map(e -> Duration.between(start, e));
    }
}
