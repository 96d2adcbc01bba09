package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.FencedException;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.core.NodeUnavailableException;
import java.util.Optional;

/**
 * The node side of a migration: one per node. In-process it is the Docker implementation
 * itself; remotely it is the HTTP client of the agent API. Both pass the same contract suite
 * ({@code NodeAgentContract} in core's test-jar).
 *
 * <p><b>Idempotency.</b> Every operation is keyed by {@link OperationKey} (migration,
 * operation, epoch) and remembered in a node-local journal: submitting a key again returns the
 * first operation's status and never starts the work twice. A key with a <em>higher</em> epoch
 * for an operation the node already runs adopts that operation (the work is not restarted).
 *
 * <p><b>Fencing.</b> A node keeps the highest epoch it has seen per app and refuses any call
 * with a lower one by throwing {@link FencedException}: a paused control plane that wakes after
 * another took over changes nothing.
 *
 * <p><b>Threads.</b> Implementations must be safe for concurrent use: the scheduler, an
 * operator's {@code advance} and a second control-plane replica may call at the same time.
 *
 * <p><b>Errors.</b> {@link NodeUnavailableException} for anything transient (connection
 * refused, timeout, 5xx): the orchestrator retries on the next tick. {@link NodeOperationException}
 * for a request the node refuses for good. An operation that fails while running is not
 * thrown: it is reported as a {@link OperationStatus.Phase#FAILED} status.
 */
public interface NodeAgent {

    /** The node this agent speaks for. */
    NodeId node();

    /**
     * Checks whether a migration can run, changing nothing. Called by the tick in PENDING, on
     * the source first ({@link Role#SOURCE}), then on the target with the source's estimate.
     * The source checks that the app exists and can be snapshotted (bind mounts are a problem
     * unless configured); the target checks free disk, that no foreign container or volume has
     * a name the restore would use, the image's architecture, and that host ports are free.
     *
     * @throws NodeUnavailableException when the node cannot be reached
     */
    PreflightReport preflight(PreflightRequest request);

    /**
     * Starts an operation, or returns the status of the one already started under the same key.
     * Returns at once; long work continues in the background and is polled with
     * {@link #status}. Called by the tick when the operation's state begins and its earlier
     * operations have finished.
     *
     * @throws FencedException          when the key's epoch is below the highest seen for the app
     * @throws NodeOperationException   when the request can never be carried out here
     * @throws NodeUnavailableException when the node cannot be reached
     */
    OperationStatus submit(OperationRequest request);

    /**
     * The status of an operation, or empty when this node has no record of it (it was never
     * submitted, for instance because a control plane crashed between saving and submitting).
     * Called by every tick while the operation runs. A higher epoch than the journal's adopts
     * the operation, as {@link #submit} does.
     *
     * @throws FencedException          when the key's epoch is below the highest seen for the app
     * @throws NodeUnavailableException when the node cannot be reached
     */
    Optional<OperationStatus> status(OperationKey key);

    /**
     * Undoes the migration's effects on this node and returns when done; idempotent. Called by
     * {@code fail} (abort) and by rollback, on the target before the source, so two copies never
     * run. Removes only what carries this migration's label; never touches anything foreign.
     *
     * @return the actions taken, one line each ("removed container web")
     * @throws FencedException          when the epoch is stale
     * @throws NodeUnavailableException when the node cannot be reached
     */
    java.util.List<String> compensate(CompensationRequest request);

    /**
     * What this node holds; read-only. Used by preflight, by reconciliation after a crash, and by
     * tests that compare a node before and after a migration.
     *
     * @throws NodeUnavailableException when the node cannot be reached
     */
    NodeInventory inventory();

    /**
     * The retention sweep: removes the files this node keeps for ended migrations (archives,
     * deltas, change fences, leftovers of staging and of transports) once the newest of them is
     * older than {@code olderThan}, except those of the migrations in {@code keep} (every active
     * migration, and every archive an active replay is about to adopt). Never touches a volume,
     * a container or an image. Idempotent.
     *
     * <p>The default keeps nothing on disk and so has nothing to sweep.
     *
     * @return what was removed, for people (one line a migration)
     * @throws NodeUnavailableException when the node cannot be reached
     */
    default java.util.List<String> sweepArchives(java.time.Instant olderThan,
                                                 java.util.Set<dev.fleet.migration.core.MigrationId> keep) {
        return java.util.List.of();
    }
}
