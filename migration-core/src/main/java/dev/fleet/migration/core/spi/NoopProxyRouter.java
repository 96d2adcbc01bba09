package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.AppRef;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The router for fleets without a proxy: it only remembers where each route would point, so
 * the orchestrator's protocol is the same with or without a proxy.
 */
public final class NoopProxyRouter implements ProxyRouter {
    private final Map<AppRef, Upstream> routes = new ConcurrentHashMap<>();

    @Override
    public Optional<Upstream> current(AppRef app) {
        return Optional.ofNullable(routes.get(app));
    }

    @Override
    public void switchTo(AppRef app, Optional<Upstream> expected, Upstream next) {
        routes.compute(app, (a, now) -> {
            if (now != null && !now.equals(next) && expected.isPresent() && !expected.get().equals(now)) {
                throw new dev.fleet.migration.core.ConflictException("route of '" + app + "' points at " + now
                        + ", not at the expected " + expected.get() + "; refusing to switch it to " + next);
            }
            return next;
        });
    }

    @Override
    public void remove(AppRef app) {
        routes.remove(app);
    }
}
