package dev.fleet.migration.core;

import static dev.fleet.migration.core.MigrationState.PENDING;

import com.google.common.util.concurrent.Striped;
import dev.fleet.migration.core.MigrationEvent.Adopted;
import dev.fleet.migration.core.MigrationEvent.Advanced;
import dev.fleet.migration.core.MigrationEvent.Failed;
import dev.fleet.migration.core.MigrationEvent.FailureRequested;
import dev.fleet.migration.core.MigrationEvent.OperationFinished;
import dev.fleet.migration.core.MigrationEvent.OperationStarted;
import dev.fleet.migration.core.MigrationEvent.ProgressReported;
import dev.fleet.migration.core.MigrationEvent.Waiting;
import dev.fleet.migration.core.spi.CompensationRequest;
import dev.fleet.migration.core.spi.MigrationLeases;
import dev.fleet.migration.core.spi.MigrationStore;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationRequest;
import dev.fleet.migration.core.spi.OperationStatus;
import dev.fleet.migration.core.spi.PreflightReport;
import dev.fleet.migration.core.spi.PreflightRequest;
import dev.fleet.migration.core.spi.ProxyRouter;
import dev.fleet.migration.core.spi.Role;
import dev.fleet.migration.core.spi.Upstream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives migrations through the state machine: {@link #create}, {@link #list}, {@link #get},
 * {@link #advance} (the tick), {@link #fail} (abort), and a scheduler that ticks every active
 * migration on its own.
 *
 * <p><b>The tick.</b> It starts the current state's next operation if it has not started,
 * polls it if it runs, records it when it finished and was verified, and moves to the next
 * state when every operation of the state has finished. It makes at most one state change,
 * then starts the new state's first operation. The intent to start an operation is saved
 * before the node is asked, and nodes answer a repeated key with the first result, so a tick
 * repeated, raced or replayed after a crash never starts work twice.
 *
 * <p><b>Ownership.</b> Every save is a compare-and-set on {@code version}. The first time an
 * orchestrator touches a migration it did not create, it raises the epoch (fencing off any
 * older owner, whose node calls the agents will then refuse). Replicas sharing a store also
 * share {@link MigrationLeases}: a migration is ticked only by the replica holding its lease,
 * and adopted by another only once that lease expired, so live replicas never steal it back
 * and forth.
 *
 * <p><b>Failure.</b> Every exception a node, the router or the store throws while driving a
 * migration ends up in exactly one place, {@link #failWithCompensation}: transient ones
 * ({@link MigrationException.Kind#UNAVAILABLE}) are retried until the step's deadline;
 * losing ownership (a stale version, a fenced epoch) leaves the record alone; anything else
 * compensates and ends FAILED.
 *
 * <p>Thread-safe: ticks of one migration are serialised within an instance; across instances
 * the compare-and-set decides.
 */
public final class Orchestrator implements AutoCloseable {
    /** Fact: the port the app serves on, reported by the source's preflight. */
    public static final String FACT_APP_PORT = "app.port";
    /** Fact: the sha256 the target verified (after TRANSFER and RESTORE). */
    public static final String FACT_VERIFIED_SHA256 = "archive.sha256";
    /** Fact: "true" once the target passed its health gate. */
    public static final String FACT_HEALTHY = "target.healthy";
    /** Fact: when the source's stop signal was sent (node clock), where the downtime begins. */
    public static final String FACT_STOP_SIGNALLED_AT = "source.stopSignalledAt";
    /** Fact: when the target passed its health gate (node clock). */
    public static final String FACT_HEALTHY_AT = "target.healthyAt";
    /** Fact: where the route points after the switch, or "none" for an app without a port. */
    public static final String FACT_ROUTE = "route";
    /** Fact: the ended migration whose kept archive this one replays (see {@link #replay}). */
    public static final String FACT_REPLAY_OF = "replay.of";

    private static final Logger log = LoggerFactory.getLogger(Orchestrator.class);
    /** How often a tick polls a node while the app is down in cutover, instead of waiting for the next tick. */
    private static final Duration DOWN_POLL = Duration.ofMillis(20);
    private static final int MAX_REASON = 1000;

    private final MigrationStore store;
    private final Map<NodeId, NodeAgent> agents;
    private final Map<NodeId, String> upstreamHosts;
    private final ProxyRouter router;
    private final Clock clock;
    private final Sleeper sleeper;
    private final Supplier<MigrationId> ids;
    private final OrchestratorSettings settings;
    private final List<MigrationListener> listeners;
    /**
     * One lock per migration, in effect: a slow tick (a compensation waiting for a node) must not
     * hold up an unrelated migration that would share one of a few stripes.
     */
    private final Striped<Lock> locks = Striped.lazyWeakLock(1 << 20);
    private final Object admission = new Object();
    /** Migrations admitted past PENDING whose save may not have landed yet; guarded by admission. */
    private final java.util.Set<MigrationId> admitting = new java.util.HashSet<>();
    /** The epoch this instance holds for each migration it owns. */
    private final Map<MigrationId, Long> owned = new ConcurrentHashMap<>();
    /** Who ticks which migration among replicas sharing the store; see {@link #lease}. */
    private final MigrationLeases leases;
    /** This instance's name in {@link #leases}. */
    private final String replica;
    private final Duration leaseTtl;
    /** Until when this instance last took or renewed each lease it holds. */
    private final Map<MigrationId, Instant> leasedUntil = new ConcurrentHashMap<>();
    /** Test-only crash points; {@link CrashPoints#NONE} outside crash tests. */
    private final CrashPoints crash;
    private volatile ScheduledExecutorService scheduler;

    private Orchestrator(Builder b) {
        this.store = Objects.requireNonNull(b.store, "store");
        this.agents = Map.copyOf(b.agents);
        this.upstreamHosts = Map.copyOf(b.upstreamHosts);
        this.router = Objects.requireNonNull(b.router, "router");
        this.clock = Objects.requireNonNull(b.clock, "clock");
        this.sleeper = Objects.requireNonNull(b.sleeper, "sleeper");
        this.ids = Objects.requireNonNull(b.ids, "ids");
        this.settings = Objects.requireNonNull(b.settings, "settings");
        this.listeners = List.copyOf(b.listeners);
        this.leases = Objects.requireNonNull(b.leases, "leases");
        this.replica = Objects.requireNonNull(b.replica, "replica");
        this.leaseTtl = Objects.requireNonNull(b.leaseTtl, "leaseTtl");
        this.crash = b.crash != null ? b.crash : CrashPoints.fromEnvironment();
        if (crash.armed()) {
            log.warn("TEST-ONLY crash point armed: {}", crash);
        }
        if (agents.size() < 2) {
            throw new IllegalArgumentException("a fleet needs at least two nodes, got " + agents.keySet());
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    // ------------------------------------------------------------------ the public operations

    /**
     * Records a new migration in PENDING. Validates everything first and changes nothing when
     * any check fails.
     *
     * @throws InvalidInputException           for a malformed app id or node id, or source = target
     * @throws UnknownNodeException            for a node not in the fleet
     * @throws ActiveMigrationExistsException  when the app already has an active migration
     */
    public Migration create(String appId, String sourceNode, String targetNode) {
        AppRef app = AppRef.parse(appId);
        NodeId source = knownNode("source", sourceNode);
        NodeId target = knownNode("target", targetNode);
        if (source.equals(target)) {
            throw new InvalidInputException("target", target.value(), "must differ from source '" + source + "'");
        }
        long epoch = store.maxEpoch(app) + 1;
        Migration m = Migration.create(ids.get(), app, source, target, epoch, clock.instant());
        record(m);
        log.info("created migration {} of {} from {} to {}", m.id(), app, source, target);
        return m;
    }

    /** Stores a new migration, owns it with its epoch and takes its lease, and tells the listeners. */
    private void record(Migration m) {
        store.insert(m);
        owned.put(m.id(), m.epoch());
        try {
            lease(m.id(), false); // the creating replica ticks it first; no other adopts it while this one lives
        } catch (RuntimeException e) {
            log.warn("migration {}: could not take its lease ({}); the next tick will", m.id(), e.toString());
        }
        publish(null, m);
    }

    /**
     * Records a new migration in PENDING that replays a kept archive instead of taking a new
     * snapshot: a migration that failed after its snapshot (the target's disk was full, the link
     * dropped, the target never became healthy) is run again without reading the volumes a second
     * time. The source's SNAPSHOT operation receives the kept archive and adopts it (verifying its
     * sha256) together with its change fence, so the final delta at cutover still carries every
     * write made since that snapshot: nothing acknowledged is lost.
     *
     * <p>The replay starts on the node that wrote the archive (where its change fence lives), moves
     * the same app, and may go to any other node.
     *
     * @param keptId     the ended migration whose archive is replayed
     * @param sourceNode must be the kept migration's source
     * @param targetNode any other node of the fleet
     * @throws MigrationNotFoundException     when there is no migration {@code keptId}
     * @throws ConflictException              when it has not ended yet
     * @throws InvalidInputException          when it has no archive, or the source is another node
     * @throws ActiveMigrationExistsException when the app already has an active migration
     */
    public Migration replay(String keptId, String sourceNode, String targetNode) {
        MigrationId keptMigration = MigrationId.of(keptId);
        NodeId source = knownNode("source", sourceNode);
        NodeId target = knownNode("target", targetNode);
        if (source.equals(target)) {
            throw new InvalidInputException("target", target.value(), "must differ from source '" + source + "'");
        }
        Migration kept = get(keptMigration);
        if (!kept.isTerminal()) {
            throw new ConflictException("migration " + kept.id() + " is still " + kept.state().wireName()
                    + "; only an ended migration's archive can be replayed");
        }
        ArchiveInfo archive = kept.archive().orElseThrow(() -> new InvalidInputException("replayOf", kept.id().value(),
                "has no archive: it ended before its snapshot finished"));
        if (!kept.source().equals(source)) {
            throw new InvalidInputException("source", source.value(), "a replay starts on the node that wrote the archive"
                    + " and its change fence: '" + kept.source() + "'");
        }
        long epoch = store.maxEpoch(kept.app()) + 1;
        Migration fresh = Migration.create(ids.get(), kept.app(), source, target, epoch, clock.instant());
        Map<String, String> facts = new java.util.TreeMap<>(fresh.facts());
        facts.put(FACT_REPLAY_OF, kept.id().value());
        Migration m = fresh.with(fresh.state(), fresh.version(), fresh.epoch(), fresh.updatedAt(), fresh.steps(),
                fresh.operations(), fresh.progress(), Optional.of(archive), facts, fresh.failing(), fresh.failure(),
                fresh.downtime(), fresh.detail());
        record(m);
        log.info("created migration {} of {} from {} to {}, replaying the archive of {}", m.id(), m.app(), source,
                target, kept.id());
        return m;
    }

    /**
     * The retention sweep: asks every node to remove what it keeps on disk for migrations that
     * ended more than {@code retention} ago (by this orchestrator's clock), never the files of an
     * active migration or of the archive an active replay still has to adopt. A node that cannot
     * be reached is skipped and swept next time. Volumes are never touched.
     *
     * @return what each node removed, as "node: line"
     */
    public List<String> sweepArchives(Duration retention) {
        if (retention.isNegative() || retention.isZero()) {
            throw new InvalidInputException("retention", retention.toString(), "must be positive");
        }
        java.util.Set<MigrationId> keep = new java.util.TreeSet<>();
        for (Migration m : store.active()) {
            keep.add(m.id());
            String replayed = m.facts().get(FACT_REPLAY_OF);
            if (replayed != null) {
                keep.add(MigrationId.of(replayed));
            }
        }
        Instant olderThan = clock.instant().minus(retention);
        List<String> removed = new ArrayList<>();
        for (NodeAgent agent : agents.values()) {
            try {
                for (String line : agent.sweepArchives(olderThan, keep)) {
                    removed.add(agent.node() + ": " + line);
                }
            } catch (RuntimeException e) {
                log.warn("retention sweep on node {} failed, trying again next time: {}", agent.node(), e.toString());
            }
        }
        if (!removed.isEmpty()) {
            log.info("retention sweep (older than {}): {}", olderThan, removed);
        }
        return removed;
    }

    /** Every migration, newest first. Reads the whole store: prefer {@link #list(MigrationQuery)}. */
    public List<Migration> list() {
        return store.list();
    }

    /** One page of the migrations that pass the query's filter, newest first, with their total. */
    public MigrationPage list(MigrationQuery query) {
        return store.page(Objects.requireNonNull(query, "query"));
    }

    /**
     * The store's {@link MigrationStore#changeStamp()}: read it before {@link #list}, and what
     * was derived from that page stays current while the stamp does. Empty: keep nothing.
     */
    public java.util.OptionalLong changeStamp() {
        return store.changeStamp();
    }

    /** @throws MigrationNotFoundException when there is no such migration */
    public Migration get(MigrationId id) {
        return store.find(id).orElseThrow(() -> new MigrationNotFoundException(id));
    }

    /** Every saved version of a migration, oldest first. */
    public List<Migration> history(MigrationId id) {
        get(id);
        return store.history(id);
    }

    /** The fleet's nodes. */
    public List<NodeId> nodes() {
        return agents.keySet().stream().sorted().toList();
    }

    /**
     * The tick: moves the migration on as far as its work allows, at most one state change.
     * Idempotent; safe to call concurrently.
     *
     * @throws MigrationNotFoundException  for an unknown id
     * @throws TerminalMigrationException  when it is already DONE or FAILED
     */
    public Migration advance(MigrationId id) {
        return locked(id, () -> {
            Migration m = get(id);
            if (m.isTerminal()) {
                throw new TerminalMigrationException(id, m.state(), "advance");
            }
            if (!lease(id, false)) {
                return m; // another replica holds the lease and ticks it
            }
            return tick(new Cursor(m));
        });
    }

    /**
     * Aborts: compensates on both nodes (target first when the source was already stopped, so
     * two copies never run; route pointed back) and ends FAILED with the reason.
     *
     * @throws MigrationNotFoundException  for an unknown id
     * @throws TerminalMigrationException  when it is already DONE or FAILED
     * @throws InvalidInputException       for a reason that is too long or holds control characters
     */
    public Migration fail(MigrationId id, String reason) {
        String why = validReason(reason);
        for (int attempt = 1; ; attempt++) {
            try {
                return locked(id, () -> {
                    Migration m = get(id);
                    if (m.isTerminal()) {
                        throw new TerminalMigrationException(id, m.state(), "fail");
                    }
                    lease(id, true); // an abort takes the migration over now, whoever ticked it
                    Cursor c = new Cursor(m);
                    adopt(c);
                    return failWithCompensation(c, "aborted: " + why);
                });
            } catch (StaleVersionException | FencedException e) {
                // another control plane saved in between: read again; the abort, once saved, sticks
                owned.remove(id);
                leasedUntil.remove(id);
                if (attempt == 10) {
                    throw e;
                }
            }
        }
    }

    /** Ticks every active migration once; what the scheduler runs. Returns how many were ticked. */
    public int tickAll() {
        int n = 0;
        for (Migration m : store.active()) {
            try {
                advance(m.id());
                n++;
            } catch (TerminalMigrationException | MigrationNotFoundException e) {
                // ended between the listing and the tick
            } catch (StoreException e) {
                // the saved record is all that happened: the tick asked no node for what it could not save
                log.warn("tick of {} stopped unsaved, no node was asked anything past its last saved state: {}",
                        m.id(), e.getMessage());
            } catch (RuntimeException e) {
                log.warn("tick of {} failed: {}", m.id(), e.toString());
            }
        }
        return n;
    }

    /** Starts the scheduler, unless its interval is zero. Idempotent. */
    public synchronized Orchestrator start() {
        Duration every = settings.schedulerInterval();
        if (scheduler != null || every.isZero()) {
            return this;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fleet-migration-scheduler");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(this::tickAllQuietly, every.toMillis(), every.toMillis(),
                TimeUnit.MILLISECONDS);
        return this;
    }

    /**
     * Stops the scheduler and gives up this instance's leases (another replica may take its
     * migrations at once); work already started on nodes goes on and is picked up later.
     */
    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            try {
                scheduler.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            scheduler = null;
        }
        // after the scheduler stopped, so no tick takes one back
        for (MigrationId id : List.copyOf(leasedUntil.keySet())) {
            try {
                leases.release(id, replica);
            } catch (RuntimeException e) {
                log.warn("could not release the lease on {}: {}", id, e.toString());
            }
        }
        leasedUntil.clear();
    }

    public OrchestratorSettings settings() {
        return settings;
    }

    // ------------------------------------------------------------------ the tick

    /**
     * A tick's view of one migration: {@code saved} is the record as last stored, {@code m} the
     * record with the events applied since (in memory, not yet durable). {@link #save} stores
     * them all as one compare-and-set, so a completion and the next operation's intent cost one
     * write. Anything that must be durable before a node is asked (an operation's intent) is
     * saved, never queued.
     */
    private static final class Cursor {
        Migration saved;
        Migration m;

        Cursor(Migration m) {
            this.saved = m;
            this.m = m;
        }

        boolean dirty() {
            return m != saved;
        }
    }

    private Migration tick(Cursor c) {
        try {
            step(c);
            flush(c);
            return c.m;
        } catch (StaleVersionException | FencedException e) {
            // another control plane owns it now; leave the record alone
            owned.remove(c.m.id());
            leasedUntil.remove(c.m.id()); // ask the store who holds it before ticking it again
            log.info("migration {}: lost ownership ({})", c.m.id(), e.getMessage());
            return store.find(c.m.id()).orElse(c.m);
        }
    }

    private Migration step(Cursor c) {
        try {
            adopt(c);
            if (c.m.failing().isPresent()) {
                return finishFailure(c);
            }
            if (c.m.state() == PENDING) {
                return admit(c);
            }
            return drive(c, false);
        } catch (Unsaved | StaleVersionException | FencedException e) {
            throw e; // a save that did not land is not a failure of the migration: nothing more happens in this tick
        } catch (MigrationException e) {
            if (e.kind() == MigrationException.Kind.UNAVAILABLE) {
                return waitOrTimeOut(c, e.getMessage());
            }
            return failWithCompensation(c, e.getMessage());
        } catch (RuntimeException e) {
            log.error("migration {}: unexpected error in {}", c.m.id(), c.m.state(), e);
            return failWithCompensation(c, "internal error in " + c.m.state() + ": " + e);
        }
    }

    /** Raises the epoch the first time this instance touches a migration it does not own. */
    private void adopt(Cursor c) {
        Long mine = owned.get(c.m.id());
        if (mine != null && mine == c.m.epoch()) {
            return;
        }
        save(c, new Adopted(c.m.epoch() + 1));
        owned.put(c.m.id(), c.m.epoch());
        log.info("migration {}: adopted at epoch {}", c.m.id(), c.m.epoch());
    }

    /** PENDING: the per-node limit, then the preflight on both nodes, then SNAPSHOTTING. */
    private Migration admit(Cursor c) {
        Migration m = c.m;
        synchronized (admission) {
            for (NodeId node : List.of(m.source(), m.target())) {
                long busy = store.active().stream()
                        .filter(o -> !o.id().equals(m.id()) && (o.state() != PENDING || admitting.contains(o.id())))
                        .filter(o -> o.source().equals(node) || o.target().equals(node))
                        .count();
                if (busy >= settings.maxActivePerNode()) {
                    String detail = "waiting: node " + node + " already runs " + busy + " migration"
                            + (busy == 1 ? "" : "s") + " (limit " + settings.maxActivePerNode() + ")";
                    if (!m.detail().equals(Optional.of(detail))) {
                        save(c, new Waiting(detail));
                    }
                    return c.m;
                }
            }
            admitting.add(m.id());
        }
        try {
            PreflightReport src = agent(m.source()).preflight(new PreflightRequest(m.id(), m.epoch(), m.app(),
                    Role.SOURCE, m.source(), m.target(), 0));
            if (!src.passed()) {
                return fail(c, "preflight on source " + m.source() + ": " + String.join("; ", src.problems()),
                        Compensation.NOT_NEEDED);
            }
            PreflightReport dst = agent(m.target()).preflight(new PreflightRequest(m.id(), m.epoch(), m.app(),
                    Role.TARGET, m.source(), m.target(), src.estimatedBytes()));
            if (!dst.passed()) {
                return fail(c, "preflight on target " + m.target() + ": " + String.join("; ", dst.problems()),
                        Compensation.NOT_NEEDED);
            }
            crash.reached("preflighted", m.id());
            Map<String, String> facts = new HashMap<>(dst.facts());
            facts.putAll(src.facts());
            queue(c, new Advanced(facts)); // saved with the snapshot's intent, before the source is asked
            return drive(c, true);
        } finally {
            // by now the move out of PENDING is saved (or did not happen): the store counts it
            synchronized (admission) {
                admitting.remove(m.id());
            }
        }
    }

    /**
     * Runs the current state's operations in order: records and submits the next one, polls the
     * running one, verifies and records the finished one. Moves to the next state when all have
     * finished, then starts that state's first operation and returns.
     */
    private Migration drive(Cursor c, boolean alreadyMoved) {
        boolean moved = alreadyMoved;
        while (!c.m.isTerminal()) {
            Optional<OperationKind> pending = StateMachine.plan(c.m).stream()
                    .filter(k -> !c.m.finished(k)).findFirst();
            if (pending.isEmpty()) {
                if (moved) {
                    return c.m;
                }
                // entering cutover fixes its order: route first when the proxy holds requests
                queue(c, c.m.state().next() == MigrationState.CUTOVER
                        ? new Advanced(Map.of(StateMachine.FACT_CUTOVER_ORDER,
                                router.holdsRequestsUntilUpstreamAnswers() ? StateMachine.ROUTE_FIRST : StateMachine.ROUTE_LAST))
                        : new Advanced());
                moved = true;
                log.info("migration {}: {}", c.m.id(), c.m.state());
                continue;
            }
            OperationKind kind = pending.get();
            if (kind == OperationKind.SWITCH_ROUTE) {
                switchRoute(c);
                continue;
            }
            OperationStatus status = runOrPoll(c, kind);
            switch (status.phase()) {
                case RUNNING -> {
                    if (!status.progress().equals(c.m.progress())) {
                        save(c, new ProgressReported(status.progress()));
                    }
                    checkDeadline(c);
                    if (c.m.isTerminal() || c.m.failing().isPresent() || !appIsDown(c.m)) {
                        return c.m;
                    }
                    // every moment here is downtime: poll again now rather than at the next tick
                    flush(c);
                    pause();
                }
                case FAILED -> {
                    return failWithCompensation(c, describe(kind, c.m) + " failed: " + status.error().orElse("?"));
                }
                case SUCCEEDED -> {
                    crash.reached("acknowledged:" + kind.name(), c.m.id());
                    verify(c.m, kind, status);
                    queue(c, new OperationFinished(kind, status.archive(), status.facts()));
                    if (moved && !appIsDown(c.m)) {
                        return c.m; // the new state's first operation is done; the next tick goes on
                    }
                }
            }
        }
        return c.m;
    }

    /** True in cutover from the source's stop until the target is healthy and the route points at it. */
    private static boolean appIsDown(Migration m) {
        return m.state() == MigrationState.CUTOVER && m.started(OperationKind.STOP_SOURCE)
                && !(m.finished(OperationKind.START_TARGET) && m.finished(OperationKind.SWITCH_ROUTE));
    }

    private void pause() {
        try {
            sleeper.sleep(DOWN_POLL);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnavailableException("interrupted while polling a cutover");
        }
    }

    private OperationStatus runOrPoll(Cursor c, OperationKind kind) {
        NodeAgent agent = agentFor(c.m, kind);
        if (!c.m.started(kind)) {
            save(c, new OperationStarted(kind)); // intent first: a crash after this resubmits the same key
            OperationStatus submitted = agent.submit(request(c.m, kind));
            crash.reached("submitted:" + kind.name(), c.m.id());
            return submitted;
        }
        OperationKey key = new OperationKey(c.m.id(), kind, c.m.epoch());
        return agent.status(key).orElseGet(() -> agent.submit(request(c.m, kind)));
    }

    private OperationRequest request(Migration m, OperationKind kind) {
        Duration deadline = kind == OperationKind.START_TARGET ? settings.healthDeadline() : settings.stepTimeout();
        return new OperationRequest(new OperationKey(m.id(), kind, m.epoch()), m.app(), m.source(), m.target(),
                m.archive(), deadline);
    }

    /** What "finished" must prove before the record says so. */
    private static void verify(Migration m, OperationKind kind, OperationStatus status) {
        switch (kind) {
            case SNAPSHOT -> {
                if (status.archive().isEmpty()) {
                    throw new NodeOperationException(m.source(), "snapshot", "reported success without an archive");
                }
            }
            case TRANSFER, RESTORE -> {
                String expected = m.archive().map(ArchiveInfo::sha256).orElse("");
                String got = status.facts().get(FACT_VERIFIED_SHA256);
                if (!expected.equals(got)) {
                    NodeId node = kind == OperationKind.TRANSFER ? m.target() : m.target();
                    throw new NodeOperationException(node, kind.wireName(), "checksum mismatch: the archive's sha256 is "
                            + expected + " but the target verified " + (got == null ? "nothing" : got));
                }
            }
            case START_TARGET -> {
                if (!"true".equals(status.facts().get(FACT_HEALTHY))) {
                    throw new NodeOperationException(m.target(), "start-target",
                            "reported success without passing the health gate");
                }
            }
            default -> {
                // STOP_SOURCE and RETIRE_SOURCE have nothing beyond their own success to show
            }
        }
    }

    /** CUTOVER: point the route at the target, after it passed its health gate. */
    private void switchRoute(Cursor c) {
        if (!c.m.started(OperationKind.SWITCH_ROUTE)) {
            save(c, new OperationStarted(OperationKind.SWITCH_ROUTE));
        }
        Optional<Integer> port = appPort(c.m);
        if (port.isEmpty()) {
            queue(c, new OperationFinished(OperationKind.SWITCH_ROUTE, Optional.empty(), Map.of(FACT_ROUTE, "none")));
            return;
        }
        Upstream from = upstream(c.m.source(), port.get());
        Upstream to = upstream(c.m.target(), port.get());
        router.switchTo(c.m.app(), Optional.of(from), to); // idempotent: a retried switch is a no-op
        queue(c, new OperationFinished(OperationKind.SWITCH_ROUTE, Optional.empty(), Map.of(FACT_ROUTE, to.dial())));
    }

    private Migration checkDeadline(Cursor c) {
        String stopped = c.m.facts().get(StateMachine.FACT_STOP_STARTED);
        boolean serving = c.m.finished(OperationKind.SWITCH_ROUTE) && c.m.finished(OperationKind.START_TARGET);
        if (c.m.state() == MigrationState.CUTOVER && stopped != null && !serving
                && Duration.between(Instant.parse(stopped), clock.instant()).compareTo(settings.cutoverTimeout()) > 0) {
            // the app is down while this waits: roll back rather than wait out the step timeout
            return failWithCompensation(c, "cutover did not bring the target up behind the route within the cutover"
                    + " timeout of " + settings.cutoverTimeout() + " after the source stopped; rolled back"
                    + c.m.detail().map(d -> " (" + d + ")").orElse(""));
        }
        Span span = c.m.steps().get(c.m.state());
        if (span != null && Duration.between(span.start(), clock.instant()).compareTo(settings.stepTimeout()) > 0) {
            return failWithCompensation(c, c.m.state() + " took longer than the step timeout of "
                    + settings.stepTimeout());
        }
        return c.m;
    }

    private Migration waitOrTimeOut(Cursor c, String why) {
        checkDeadline(c);
        if (c.m.isTerminal() || c.m.failing().isPresent()) {
            return c.m;
        }
        String detail = "retrying: " + why;
        if (!c.m.detail().equals(Optional.of(detail))) {
            try {
                save(c, new Waiting(detail));
            } catch (StaleVersionException e) {
                owned.remove(c.m.id());
            }
        }
        return c.m;
    }

    // ------------------------------------------------------------------ failure and compensation

    /**
     * The one seam where failures become the FAILED transition. First the decision is saved
     * (compare-and-set, raising the epoch), so that from then on every control plane that reads
     * the migration finishes the failure instead of moving it on, and any older owner's node
     * calls are refused. Then compensation undoes what the migration did on both nodes and the
     * route; it is idempotent, so whoever finishes it may repeat it. FAILED is saved last.
     */
    private Migration failWithCompensation(Cursor c, String reason) {
        save(c, new FailureRequested(reason));
        owned.put(c.m.id(), c.m.epoch());
        return finishFailure(c);
    }

    private Migration finishFailure(Cursor c) {
        Undo undo = compensate(c.m);
        String reason = c.m.failing().orElseThrow();
        if (undo.retryable() && !failingTooLong(c.m)) {
            // a node or the proxy could not be reached: keep what this attempt did, try again next tick
            save(c, new MigrationEvent.CompensationAttempted(undo.compensation().actions(), "failing: " + reason
                    + "; compensation will be retried: " + String.join("; ", undo.compensation().actions())));
            return c.m;
        }
        Compensation compensation = undo.compensation();
        String earlier = c.m.facts().get(StateMachine.FACT_COMPENSATION_LOG);
        if (earlier != null) {
            List<String> all = new ArrayList<>(List.of(earlier.split("\n")));
            all.addAll(compensation.actions());
            compensation = new Compensation(compensation.outcome(), all);
        }
        return fail(c, reason, compensation);
    }

    private boolean failingTooLong(Migration m) {
        String since = m.facts().get(StateMachine.FACT_FAILING_SINCE);
        return since == null
                || Duration.between(Instant.parse(since), clock.instant()).compareTo(settings.stepTimeout()) > 0;
    }

    private Migration fail(Cursor c, String reason, Compensation compensation) {
        save(c, new Failed(reason, compensation));
        log.warn("migration {} FAILED in {}: {} (compensation {})", c.m.id(),
                c.m.failure().map(Failure::failedIn).orElse(null), reason, compensation.outcome());
        return c.m;
    }

    /** What compensation did, and whether what failed may work when tried again. */
    private record Undo(Compensation compensation, boolean retryable) {}

    private Undo compensate(Migration m) {
        if (m.operations().isEmpty()) {
            return new Undo(Compensation.NOT_NEEDED, false);
        }
        List<String> actions = new ArrayList<>();
        boolean complete = true;
        boolean retryable = false;
        boolean sourceStopped = m.started(OperationKind.STOP_SOURCE);
        boolean touchedTarget = m.started(OperationKind.TRANSFER);
        // Before the source stopped it still serves: cancel its work first, then clean the target.
        // After it stopped, remove the target's copy first so two copies never run.
        List<Role> order = sourceStopped ? List.of(Role.TARGET, Role.SOURCE) : List.of(Role.SOURCE, Role.TARGET);
        for (Role role : order) {
            if (role == Role.TARGET && !touchedTarget) {
                continue;
            }
            NodeId node = role == Role.SOURCE ? m.source() : m.target();
            try {
                List<String> done = agent(node).compensate(new CompensationRequest(m.id(), m.epoch(), m.app(), role,
                        m.operations().keySet()));
                done.forEach(a -> actions.add(role.name().toLowerCase(java.util.Locale.ROOT) + " " + node + ": " + a));
            } catch (RuntimeException e) {
                complete = false;
                retryable |= isTransient(e);
                actions.add(role.name().toLowerCase(java.util.Locale.ROOT) + " " + node
                        + ": compensation failed: " + e.getMessage());
            }
        }
        Optional<Integer> port = appPort(m);
        if (m.started(OperationKind.SWITCH_ROUTE) && port.isPresent()) {
            Upstream back = upstream(m.source(), port.get());
            try {
                router.switchTo(m.app(), Optional.of(upstream(m.target(), port.get())), back);
                actions.add("route: points at " + back.dial());
            } catch (RuntimeException e) {
                complete = false;
                retryable |= isTransient(e);
                actions.add("route: could not point back at " + back.dial() + ": " + e.getMessage());
            }
        }
        return new Undo(new Compensation(complete ? Compensation.Outcome.COMPLETE : Compensation.Outcome.INCOMPLETE,
                actions), retryable);
    }

    private static boolean isTransient(RuntimeException e) {
        return e instanceof MigrationException me && me.kind() == MigrationException.Kind.UNAVAILABLE;
    }

    // ------------------------------------------------------------------ plumbing

    /** Applies the event in memory only; the next {@link #save} or {@link #flush} stores it. */
    private void queue(Cursor c, MigrationEvent event) {
        c.m = StateMachine.apply(c.m, event, clock).getOrElseThrow(Rejection::toException);
    }

    /** Applies the event and stores it, with everything queued before it, as one compare-and-set. */
    private void save(Cursor c, MigrationEvent event) {
        queue(c, event);
        flush(c);
    }

    private void flush(Cursor c) {
        if (!c.dirty()) {
            return;
        }
        Migration previous = c.saved;
        Migration next = c.m.withVersion(previous.version() + 1);
        try {
            store.update(next);
        } catch (StoreException e) {
            // what this tick applied since the last save did not happen, as far as anyone knows
            c.m = previous;
            throw new Unsaved(e);
        }
        c.saved = next;
        c.m = next;
        publish(previous, next);
        if (next.state() != previous.state()) {
            crash.reached("saved:" + next.state().name(), next.id());
        }
        if (next.isTerminal()) {
            releaseLease(next.id());
        }
    }

    /**
     * Takes or renews this instance's lease on a migration; false when another replica holds an
     * unexpired one, and the tick is skipped. A lease is renewed in the store once a third of it
     * has passed, not on every tick. Losing it forgets the epoch held, so taking it again later
     * adopts with a new epoch: adoption happens only when the previous holder's lease expired (or
     * an abort forced it), never back and forth between live replicas.
     */
    private boolean lease(MigrationId id, boolean force) {
        if (leases == MigrationLeases.UNSHARED) {
            return true;
        }
        Instant now = clock.instant();
        Instant until = leasedUntil.get(id);
        if (!force && until != null && now.isBefore(until.minus(leaseTtl.multipliedBy(2).dividedBy(3)))) {
            return true;
        }
        Instant next = now.plus(leaseTtl);
        if (leases.acquire(id, replica, now, next, force)) {
            leasedUntil.put(id, next);
            return true;
        }
        leasedUntil.remove(id);
        owned.remove(id);
        return false;
    }

    private void releaseLease(MigrationId id) {
        if (leasedUntil.remove(id) == null && leases == MigrationLeases.UNSHARED) {
            return;
        }
        try {
            leases.release(id, replica);
        } catch (RuntimeException e) {
            log.warn("could not release the lease on {}: {}", id, e.toString()); // it expires on its own
        }
    }

    private void publish(Migration previous, Migration saved) {
        for (MigrationListener l : listeners) {
            try {
                l.onSaved(previous, saved);
            } catch (RuntimeException e) {
                log.warn("migration listener failed: {}", e.toString());
            }
        }
    }

    private <T> T locked(MigrationId id, Supplier<T> body) {
        Lock lock = locks.get(id);
        lock.lock();
        try {
            return body.get();
        } catch (Unsaved e) {
            throw e.failure; // the scheduler logs it (tickAll), the API answers it as a problem
        } finally {
            lock.unlock();
        }
    }

    /**
     * The store could not save a tick's change (a full disk, an I/O error). Carried out of the
     * tick unchanged, past the handlers that would turn a node's failure into FAILED: a migration
     * whose state cannot be saved cannot be failed either, and must not be. The tick ends where
     * the record was last saved, no node is asked anything more, and the caller (the API, the
     * scheduler) gets the {@link StoreException}; the next tick after space was freed goes on
     * from the saved state (every node call is idempotent by key).
     */
    private static final class Unsaved extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final StoreException failure;

        Unsaved(StoreException failure) {
            super(failure.getMessage(), failure, false, false);
            this.failure = failure;
        }
    }

    private void tickAllQuietly() {
        try {
            tickAll();
        } catch (RuntimeException e) {
            log.warn("scheduled tick failed: {}", e.toString());
        }
    }

    private NodeId knownNode(String field, String value) {
        NodeId node = NodeId.of(value == null ? null : value);
        if (!agents.containsKey(node)) {
            throw new UnknownNodeException(field, node, agents.keySet());
        }
        return node;
    }

    private NodeAgent agent(NodeId node) {
        NodeAgent a = agents.get(node);
        if (a == null) {
            throw new UnknownNodeException("node", node, agents.keySet());
        }
        return a;
    }

    private NodeAgent agentFor(Migration m, OperationKind kind) {
        return agent(kind.actor() == OperationKind.Actor.TARGET ? m.target() : m.source());
    }

    private Upstream upstream(NodeId node, int port) {
        return new Upstream(upstreamHosts.getOrDefault(node, "127.0.0.1"), port);
    }

    private static Optional<Integer> appPort(Migration m) {
        String port = m.facts().get(FACT_APP_PORT);
        if (port == null || port.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Integer.parseInt(port));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static String describe(OperationKind kind, Migration m) {
        NodeId node = kind.actor() == OperationKind.Actor.TARGET ? m.target() : m.source();
        return kind.wireName() + " on node " + node;
    }

    private static String validReason(String reason) {
        if (reason == null || reason.isBlank()) {
            return "aborted by operator";
        }
        if (reason.length() > MAX_REASON) {
            throw new InvalidInputException("reason", reason, "must be at most " + MAX_REASON + " characters long");
        }
        if (reason.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
            throw new InvalidInputException("reason", reason, "must not hold control characters");
        }
        return reason.strip();
    }

    /** Builds an {@link Orchestrator}; every collaborator is passed explicitly. */
    public static final class Builder {
        private MigrationStore store;
        private final Map<NodeId, NodeAgent> agents = new LinkedHashMap<>();
        private final Map<NodeId, String> upstreamHosts = new LinkedHashMap<>();
        private ProxyRouter router = new dev.fleet.migration.core.spi.NoopProxyRouter();
        private Clock clock = Clock.systemUTC();
        private Sleeper sleeper = Sleeper.REAL;
        private Supplier<MigrationId> ids = MigrationIds.random();
        private OrchestratorSettings settings = OrchestratorSettings.DEFAULTS;
        private final List<MigrationListener> listeners = new ArrayList<>();
        private MigrationLeases leases = MigrationLeases.UNSHARED;
        private String replica = "orchestrator-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        private Duration leaseTtl = Duration.ofSeconds(15);
        private CrashPoints crash;

        private Builder() {}

        /**
         * Shares the migrations with other control planes (replicas) on the same store: each
         * migration is ticked by the replica holding its lease. Without it ({@link
         * MigrationLeases#UNSHARED}) this orchestrator ticks every active migration.
         *
         * @param replica this control plane's name among the replicas; a restarted replica that
         *                keeps its name takes its own leases back at once instead of waiting for
         *                them to expire
         * @param ttl     how long a lease lasts unless renewed: how long the other replicas wait
         *                before finishing the migrations of one that died
         */
        public Builder leases(MigrationLeases leases, String replica, Duration ttl) {
            this.leases = Objects.requireNonNull(leases, "leases");
            if (replica == null || replica.isBlank() || replica.length() > 200) {
                throw new InvalidInputException("replica", replica, "must be 1 to 200 characters");
            }
            if (ttl == null || ttl.isNegative() || ttl.isZero()) {
                throw new InvalidInputException("leaseTtl", String.valueOf(ttl), "must be positive");
            }
            this.replica = replica;
            this.leaseTtl = ttl;
            return this;
        }

        /** Test-only: where to crash ({@link CrashPoints}); by default read from the environment at build time. */
        public Builder crashPoints(CrashPoints crash) {
            this.crash = Objects.requireNonNull(crash, "crash");
            return this;
        }

        public Builder store(MigrationStore store) {
            this.store = store;
            return this;
        }

        /** Adds a node; its upstream host (where the proxy reaches its apps) defaults to 127.0.0.1. */
        public Builder node(NodeAgent agent) {
            return node(agent, "127.0.0.1");
        }

        public Builder node(NodeAgent agent, String upstreamHost) {
            if (agents.putIfAbsent(agent.node(), agent) != null) {
                throw new IllegalArgumentException("node " + agent.node() + " was added twice");
            }
            upstreamHosts.put(agent.node(), upstreamHost);
            return this;
        }

        public Builder router(ProxyRouter router) {
            this.router = router;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** How to wait between polls while an app is down in cutover; tests pass one that moves their clock. */
        public Builder sleeper(Sleeper sleeper) {
            this.sleeper = sleeper;
            return this;
        }

        public Builder ids(Supplier<MigrationId> ids) {
            this.ids = ids;
            return this;
        }

        public Builder settings(OrchestratorSettings settings) {
            this.settings = settings;
            return this;
        }

        public Builder listener(MigrationListener listener) {
            this.listeners.add(listener);
            return this;
        }

        public Orchestrator build() {
            return new Orchestrator(this);
        }
    }
}
