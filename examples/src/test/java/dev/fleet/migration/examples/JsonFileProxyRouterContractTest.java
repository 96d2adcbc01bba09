package dev.fleet.migration.examples;

import dev.fleet.migration.core.contract.ProxyRouterContract;
import dev.fleet.migration.core.spi.ProxyRouter;
import dev.fleet.migration.core.spi.Upstream;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** A custom router proves itself with the same kit as the shipped ones: this class is the whole test. */
class JsonFileProxyRouterContractTest extends ProxyRouterContract {
    @TempDir
    static Path dir;

    private final JsonFileProxyRouter router = new JsonFileProxyRouter(dir.resolve("routes.properties"));

    @Override
    protected ProxyRouter router() {
        return router;
    }

    @Override
    protected Upstream upstreamA() {
        return new Upstream("127.0.0.1", 8080);
    }

    @Override
    protected Upstream upstreamB() {
        return new Upstream("127.0.0.2", 8080);
    }
}
