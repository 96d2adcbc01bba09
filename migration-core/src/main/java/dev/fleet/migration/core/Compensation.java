package dev.fleet.migration.core;

import java.util.List;
import java.util.Objects;

/**
 * What an abort or rollback did to put both nodes back as they were: the outcome, and each
 * action taken in order ("target b: removed container web", "source a: started web").
 */
public record Compensation(Outcome outcome, List<String> actions) {
    public enum Outcome {
        /** Nothing had happened on any node yet. */
        NOT_NEEDED,
        /** Every action succeeded; both nodes are back to their pre-migration inventory. */
        COMPLETE,
        /** Some action failed; {@link #actions()} says which, and an operator must look. */
        INCOMPLETE
    }

    public static final Compensation NOT_NEEDED = new Compensation(Outcome.NOT_NEEDED, List.of());

    public Compensation {
        Objects.requireNonNull(outcome, "outcome");
        actions = List.copyOf(actions);
    }
}
