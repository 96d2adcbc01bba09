package dev.fleet.migration.core;

import dev.fleet.migration.core.MigrationEvent.Adopted;
import dev.fleet.migration.core.MigrationEvent.Advanced;
import dev.fleet.migration.core.MigrationEvent.Failed;
import dev.fleet.migration.core.MigrationEvent.FailureRequested;
import dev.fleet.migration.core.MigrationEvent.OperationFinished;
import dev.fleet.migration.core.MigrationEvent.OperationStarted;
import dev.fleet.migration.core.MigrationEvent.ProgressReported;
import dev.fleet.migration.core.MigrationEvent.Waiting;
import dev.fleet.migration.core.spi.OperationKind;
import io.vavr.control.Either;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The transition function: a pure function of (record, event, clock) to the next record, or a
 * {@link Rejection} naming the migration, from and to. Every accepted event yields a record
 * whose version is exactly one higher. State changes go through {@link Transitions#check}.
 */
public final class StateMachine {
    /** The fact under which the ROUTE switch's downtime start is kept. */
    static final String FACT_STOP_STARTED = "cutover.stopStartedAt";
    /** The fact that says in which order cutover runs: {@link #ROUTE_FIRST} or {@link #ROUTE_LAST}. */
    public static final String FACT_CUTOVER_ORDER = "cutover.order";
    public static final String ROUTE_FIRST = "route-first";
    public static final String ROUTE_LAST = "route-last";
    /** The fact under which earlier, unfinished compensation attempts keep their actions, one a line. */
    static final String FACT_COMPENSATION_LOG = "compensation.log";
    /** The fact under which the moment a migration was told to fail is kept. */
    static final String FACT_FAILING_SINCE = "failing.since";

    private StateMachine() {}

    public static Either<Rejection, Migration> apply(Migration m, MigrationEvent event, Clock clock) {
        // a clock that steps back (NTP, a restored VM) must not produce spans that end before they start
        Instant now = later(clock.instant(), m.updatedAt());
        if (m.isTerminal()) {
            return Either.left(new Rejection(m.id(), m.state(), targetOf(m, event), m.state() + " is terminal"));
        }
        if (m.failing().isPresent() && (event instanceof Advanced || event instanceof OperationStarted)) {
            return Either.left(new Rejection(m.id(), m.state(), targetOf(m, event),
                    "it is failing (" + m.failing().get() + "); only compensation may follow"));
        }
        if (event instanceof Adopted a) {
            return adopt(m, a, now);
        } else if (event instanceof Advanced a) {
            return advance(m, a, now);
        } else if (event instanceof OperationStarted s) {
            return start(m, s.kind(), now);
        } else if (event instanceof ProgressReported p) {
            return Either.right(next(m, now, m.state(), m.epoch(), m.steps(), m.operations(), p.progress(),
                    m.archive(), m.facts(), m.failure(), m.downtime(), m.detail()));
        } else if (event instanceof OperationFinished f) {
            return finish(m, f, now);
        } else if (event instanceof Waiting w) {
            return Either.right(next(m, now, m.state(), m.epoch(), m.steps(), m.operations(), m.progress(),
                    m.archive(), m.facts(), m.failure(), m.downtime(), Optional.of(w.detail())));
        } else if (event instanceof FailureRequested f) {
            Optional<String> reason = m.failing().isPresent() ? m.failing() : Optional.of(f.reason());
            Map<String, String> facts = m.facts();
            if (!facts.containsKey(FACT_FAILING_SINCE)) {
                facts = new HashMap<>(facts);
                facts.put(FACT_FAILING_SINCE, now.toString());
            }
            return Either.right(m.with(m.state(), m.version() + 1, m.epoch() + 1, now, m.steps(), m.operations(),
                    m.progress(), m.archive(), facts, reason, m.failure(), m.downtime(),
                    Optional.of("failing: " + reason.get())));
        } else if (event instanceof MigrationEvent.CompensationAttempted a) {
            Map<String, String> facts = new HashMap<>(m.facts());
            if (!a.actions().isEmpty()) {
                String earlier = facts.get(FACT_COMPENSATION_LOG);
                String now2 = String.join("\n", a.actions());
                facts.put(FACT_COMPENSATION_LOG, earlier == null ? now2 : earlier + "\n" + now2);
            }
            return Either.right(next(m, now, m.state(), m.epoch(), m.steps(), m.operations(), m.progress(),
                    m.archive(), facts, m.failure(), m.downtime(), Optional.of(a.detail())));
        } else if (event instanceof Failed f) {
            return fail(m, f, now);
        }
        throw new IllegalArgumentException("unknown event " + event);
    }

    private static MigrationState targetOf(Migration m, MigrationEvent event) {
        if (event instanceof Advanced) {
            return m.state().next() == null ? m.state() : m.state().next();
        }
        return event instanceof Failed ? MigrationState.FAILED : m.state();
    }

    private static Either<Rejection, Migration> adopt(Migration m, Adopted a, Instant now) {
        if (a.newEpoch() <= m.epoch()) {
            return Either.left(new Rejection(m.id(), m.state(), m.state(),
                    "adoption needs an epoch above " + m.epoch() + ", got " + a.newEpoch()));
        }
        return Either.right(next(m, now, m.state(), a.newEpoch(), m.steps(), m.operations(), m.progress(),
                m.archive(), m.facts(), m.failure(), m.downtime(), m.detail()));
    }

    private static Either<Rejection, Migration> advance(Migration m, Advanced a, Instant now) {
        MigrationState to = m.state().next();
        for (OperationKind k : plan(m)) {
            if (!m.finished(k)) {
                return Either.left(new Rejection(m.id(), m.state(), to,
                        "operation " + k.wireName() + " of " + m.state() + " has not finished"));
            }
        }
        if (m.state() == MigrationState.SNAPSHOTTING && m.archive().isEmpty()) {
            return Either.left(new Rejection(m.id(), m.state(), to, "the snapshot recorded no archive"));
        }
        return Transitions.check(m.id(), m.state(), to).map(target -> {
            Map<MigrationState, Span> steps = new EnumMap<>(MigrationState.class);
            steps.putAll(m.steps());
            steps.computeIfPresent(m.state(), (s, span) -> span.isFinished() ? span : span.endedAt(now));
            Span span = Span.startedAt(now);
            steps.put(target, target.isTerminal() ? span.endedAt(now) : span);
            Map<String, String> facts = new HashMap<>(m.facts());
            facts.putAll(a.facts());
            return next(m, now, target, m.epoch(), steps, m.operations(), Progress.NONE, m.archive(), facts,
                    m.failure(), m.downtime(), Optional.empty());
        });
    }

    private static Either<Rejection, Migration> start(Migration m, OperationKind kind, Instant now) {
        if (kind.state() != m.state()) {
            return Either.left(new Rejection(m.id(), m.state(), m.state(),
                    "operation " + kind.wireName() + " belongs to " + kind.state()));
        }
        if (m.started(kind)) {
            return Either.left(new Rejection(m.id(), m.state(), m.state(),
                    "operation " + kind.wireName() + " was already started in epoch " + m.epoch()));
        }
        for (OperationKind before : plan(m)) {
            if (before == kind) {
                break;
            }
            if (!m.finished(before)) {
                return Either.left(new Rejection(m.id(), m.state(), m.state(),
                        "operation " + kind.wireName() + " cannot start before " + before.wireName() + " finished"));
            }
        }
        Map<OperationKind, Span> ops = new EnumMap<>(OperationKind.class);
        ops.putAll(m.operations());
        ops.put(kind, Span.startedAt(now));
        Map<String, String> facts = m.facts();
        if (kind == OperationKind.STOP_SOURCE) {
            facts = new HashMap<>(facts);
            facts.put(FACT_STOP_STARTED, now.toString());
        }
        return Either.right(next(m, now, m.state(), m.epoch(), m.steps(), ops, Progress.NONE, m.archive(), facts,
                m.failure(), m.downtime(), Optional.empty()));
    }

    private static Either<Rejection, Migration> finish(Migration m, OperationFinished f, Instant now) {
        OperationKind kind = f.kind();
        Span span = m.operations().get(kind);
        if (span == null) {
            return Either.left(new Rejection(m.id(), m.state(), m.state(),
                    "operation " + kind.wireName() + " finished but was never started"));
        }
        if (span.isFinished()) {
            return Either.left(new Rejection(m.id(), m.state(), m.state(),
                    "operation " + kind.wireName() + " already finished"));
        }
        if (kind == OperationKind.SNAPSHOT && f.archive().isEmpty()) {
            return Either.left(new Rejection(m.id(), m.state(), m.state(), "a snapshot must report its archive"));
        }
        Map<OperationKind, Span> ops = new EnumMap<>(OperationKind.class);
        ops.putAll(m.operations());
        ops.put(kind, span.endedAt(now));
        Map<String, String> facts = new HashMap<>(m.facts());
        facts.putAll(f.facts());
        Optional<Duration> downtime = m.downtime();
        // the app is down from the source's stop until the target is healthy and the route points
        // at it, whichever of the two comes last (the order depends on the proxy)
        boolean routeDone = kind == OperationKind.SWITCH_ROUTE || m.finished(OperationKind.SWITCH_ROUTE);
        boolean targetDone = kind == OperationKind.START_TARGET || m.finished(OperationKind.START_TARGET);
        if ((kind == OperationKind.SWITCH_ROUTE || kind == OperationKind.START_TARGET) && routeDone && targetDone
                && facts.containsKey(FACT_STOP_STARTED)) {
            // from when the stop signal went out (as the source reports it; else when it was asked for)
            // until the target is healthy (as it reports it) and the route points at it, whichever is later
            Instant down = instant(facts, Orchestrator.FACT_STOP_SIGNALLED_AT)
                    .orElse(Instant.parse(facts.get(FACT_STOP_STARTED)));
            Instant healthy = instant(facts, Orchestrator.FACT_HEALTHY_AT)
                    .orElse(kind == OperationKind.START_TARGET ? now : ops.get(OperationKind.START_TARGET).end().get());
            Instant routed = kind == OperationKind.SWITCH_ROUTE ? now : ops.get(OperationKind.SWITCH_ROUTE).end().get();
            Instant up = healthy.isAfter(routed) ? healthy : routed;
            downtime = Optional.of(up.isAfter(down) ? Duration.between(down, up) : Duration.ZERO);
        }
        Optional<ArchiveInfo> archive = f.archive().isPresent() ? f.archive() : m.archive();
        return Either.right(next(m, now, m.state(), m.epoch(), m.steps(), ops, m.progress(), archive, facts,
                m.failure(), downtime, m.detail()));
    }

    /**
     * The operations of the migration's current state, in the order they must run. Cutover's order
     * is fixed when cutover begins (the fact {@link #FACT_CUTOVER_ORDER}).
     */
    public static List<OperationKind> plan(Migration m) {
        if (m.state() == MigrationState.CUTOVER && ROUTE_FIRST.equals(m.facts().get(FACT_CUTOVER_ORDER))) {
            return OperationKind.CUTOVER_ROUTE_FIRST;
        }
        return OperationKind.of(m.state());
    }

    private static Either<Rejection, Migration> fail(Migration m, Failed f, Instant now) {
        return Transitions.check(m.id(), m.state(), MigrationState.FAILED).map(to -> {
            Map<MigrationState, Span> steps = new EnumMap<>(MigrationState.class);
            steps.putAll(m.steps());
            steps.computeIfPresent(m.state(), (s, span) -> span.isFinished() ? span : span.endedAt(now));
            steps.put(MigrationState.FAILED, Span.startedAt(now).endedAt(now));
            return next(m, now, to, m.epoch(), steps, m.operations(), m.progress(), m.archive(), m.facts(),
                    Optional.of(new Failure(f.reason(), m.state(), f.compensation())), m.downtime(), Optional.empty());
        });
    }

    private static Optional<Instant> instant(Map<String, String> facts, String key) {
        try {
            return Optional.ofNullable(facts.get(key)).map(Instant::parse);
        } catch (java.time.format.DateTimeParseException e) {
            return Optional.empty(); // a node's malformed report: fall back to the control plane's clock
        }
    }

    private static Instant later(Instant a, Instant b) {
        return a.isBefore(b) ? b : a;
    }

    private static Migration next(Migration m, Instant now, MigrationState state, long epoch,
                                  Map<MigrationState, Span> steps, Map<OperationKind, Span> ops, Progress progress,
                                  Optional<ArchiveInfo> archive, Map<String, String> facts, Optional<Failure> failure,
                                  Optional<Duration> downtime, Optional<String> detail) {
        return m.with(state, m.version() + 1, epoch, now, steps, ops, progress, archive, facts, m.failing(), failure,
                downtime, detail);
    }
}
