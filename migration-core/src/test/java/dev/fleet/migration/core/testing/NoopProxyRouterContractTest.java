package dev.fleet.migration.core.testing;

import dev.fleet.migration.core.contract.ProxyRouterContract;
import dev.fleet.migration.core.spi.NoopProxyRouter;
import dev.fleet.migration.core.spi.ProxyRouter;
import dev.fleet.migration.core.spi.Upstream;

class NoopProxyRouterContractTest extends ProxyRouterContract {
    private final NoopProxyRouter router = new NoopProxyRouter();

    @Override
    protected ProxyRouter router() {
        return router;
    }

    @Override
    protected Upstream upstreamA() {
        return new Upstream("127.0.0.1", 18080);
    }

    @Override
    protected Upstream upstreamB() {
        return new Upstream("127.0.0.2", 18080);
    }
}
