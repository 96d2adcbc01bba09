package dev.fleet.migration.proxy;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.contract.ProxyRouterContract;
import dev.fleet.migration.core.spi.ProxyRouter;
import dev.fleet.migration.core.spi.Upstream;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;

/** {@link CaddyProxyRouter} against the real Caddy that scripts/ci/services/proxy.sh starts. */
class CaddyProxyRouterContractIT extends ProxyRouterContract {
    private static final NamedServer A = new NamedServer("upstream-a");
    private static final NamedServer B = new NamedServer("upstream-b");
    private final CaddyProxyRouter router = ProxyTestEnvironment.caddyRouter();

    @AfterAll
    static void stopServers() {
        A.close();
        B.close();
    }

    @Override protected ProxyRouter router() { return router; }
    @Override protected Upstream upstreamA() { return A.upstream(); }
    @Override protected Upstream upstreamB() { return B.upstream(); }

    @Override
    protected Optional<Upstream> servedBy(AppRef app) {
        return ProxyTestEnvironment.servedBy(ProxyTestEnvironment.caddyHttp(), app, A, B);
    }
}
