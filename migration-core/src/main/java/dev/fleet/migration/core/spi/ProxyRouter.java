package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.MigrationException;
import java.util.Optional;

/**
 * The reverse proxy in front of the fleet: one route per app. Implementations: Caddy's admin
 * API, nginx with an upstream file, and a no-op router for fleets without a proxy. Each passes
 * {@code ProxyRouterContract} in core's test-jar.
 *
 * <p>Safe for concurrent use. Errors are {@link MigrationException}s; an unreachable admin
 * endpoint is a {@code NodeUnavailableException}-like transient failure.
 */
public interface ProxyRouter {

    /** Where the app's route points now, or empty when it has no route. Read-only. */
    Optional<Upstream> current(AppRef app);

    /**
     * Points the app's route at {@code next} in one atomic step: at no instant does the route
     * point at nothing or at two upstreams. Idempotent: when the route already points at
     * {@code next} it returns without change. Creates the route if the app has none. Called in
     * CUTOVER after the target passed its health gate, and by rollback to point back.
     *
     * @param expected where the caller believes the route points now; when the route points
     *                 elsewhere (neither {@code expected} nor {@code next}), the switch is refused
     *                 with a {@code ConflictException} and nothing changes; empty skips the check
     */
    void switchTo(AppRef app, Optional<Upstream> expected, Upstream next);

    /** Removes the app's route; idempotent. Used by tests and by operators retiring an app. */
    void remove(AppRef app);

    /**
     * True when this proxy holds a request for an upstream that does not answer yet (for a
     * bounded time) instead of failing it, as Caddy does with {@code try_duration}. Then the
     * cutover switches the route <em>first</em>, while the source still serves, and requests that
     * arrive during the restart wait for the target; a switch made later, while requests are
     * waiting on the stopped source, would fail them. When false (nginx, no proxy), the route is
     * switched last, once the target passed its health gate. Read once when cutover begins.
     */
    default boolean holdsRequestsUntilUpstreamAnswers() {
        return false;
    }
}
