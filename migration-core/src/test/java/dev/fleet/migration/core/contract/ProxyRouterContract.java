package dev.fleet.migration.core.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ConflictException;
import dev.fleet.migration.core.spi.ProxyRouter;
import dev.fleet.migration.core.spi.Upstream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ProxyRouter} must do. A subclass provides the router and two upstreams
 * (for a real proxy, two servers that answer with who they are), and may override
 * {@link #servedBy} to prove, with a real request through the proxy, which upstream answers.
 */
public abstract class ProxyRouterContract {

    protected abstract ProxyRouter router();

    /** The first upstream; a real subclass points it at a server that is up. */
    protected abstract Upstream upstreamA();

    /** The second upstream. */
    protected abstract Upstream upstreamB();

    /**
     * Which upstream actually serves the app's route now, as seen by a client of the proxy.
     * The default asks the router itself; a real proxy's subclass sends a request.
     */
    protected Optional<Upstream> servedBy(AppRef app) {
        return router().current(app);
    }

    private final List<AppRef> used = new ArrayList<>();

    protected AppRef freshApp() {
        AppRef app = AppRef.container("route-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36));
        used.add(app);
        return app;
    }

    @AfterEach
    void removeRoutes() {
        for (AppRef app : used) {
            router().remove(app);
        }
    }

    @Nested
    @DisplayName("switching")
    class Switching {
        @Test
        @DisplayName("an app without a route has none")
        void noRouteByDefault() {
            assertThat(router().current(freshApp())).isEmpty();
        }

        @Test
        @DisplayName("the first switch creates the route, and requests reach that upstream")
        void firstSwitchCreatesRoute() {
            AppRef app = freshApp();
            router().switchTo(app, Optional.empty(), upstreamA());
            assertThat(router().current(app)).contains(upstreamA());
            assertThat(servedBy(app)).contains(upstreamA());
        }

        @Test
        @DisplayName("a switch moves the route from one upstream to the other")
        void switchMovesRoute() {
            AppRef app = freshApp();
            router().switchTo(app, Optional.empty(), upstreamA());
            router().switchTo(app, Optional.of(upstreamA()), upstreamB());
            assertThat(router().current(app)).contains(upstreamB());
            assertThat(servedBy(app)).contains(upstreamB());
        }

        @Test
        @DisplayName("switching to where the route already points changes nothing")
        void switchIsIdempotent() {
            AppRef app = freshApp();
            router().switchTo(app, Optional.empty(), upstreamA());
            router().switchTo(app, Optional.of(upstreamA()), upstreamB());
            router().switchTo(app, Optional.of(upstreamA()), upstreamB());
            assertThat(router().current(app)).contains(upstreamB());
        }

        @Test
        @DisplayName("a switch that expects another upstream than the route's is refused and changes nothing")
        void refusesUnexpectedCurrent() {
            AppRef app = freshApp();
            router().switchTo(app, Optional.empty(), upstreamA());
            Upstream elsewhere = new Upstream("127.0.0.9", 9);
            assertThatThrownBy(() -> router().switchTo(app, Optional.of(elsewhere), upstreamB()))
                    .isInstanceOf(ConflictException.class)
                    .hasMessageContaining(upstreamA().dial());
            assertThat(router().current(app)).contains(upstreamA());
        }

        @Test
        @DisplayName("routes of different apps are independent")
        void routesAreIndependent() {
            AppRef one = freshApp();
            AppRef two = freshApp();
            router().switchTo(one, Optional.empty(), upstreamA());
            router().switchTo(two, Optional.empty(), upstreamB());
            router().switchTo(one, Optional.of(upstreamA()), upstreamB());
            assertThat(router().current(two)).contains(upstreamB());
            router().remove(one);
            assertThat(router().current(two)).contains(upstreamB());
        }
    }

    @Nested
    @DisplayName("removing and racing")
    class RemovingAndRacing {
        @Test
        @DisplayName("remove drops the route and is idempotent")
        void removeIsIdempotent() {
            AppRef app = freshApp();
            router().switchTo(app, Optional.empty(), upstreamA());
            router().remove(app);
            router().remove(app);
            assertThat(router().current(app)).isEmpty();
        }

        @Test
        @DisplayName("concurrent switches to the same upstream all succeed and leave one route")
        void concurrentSwitches() throws Exception {
            AppRef app = freshApp();
            router().switchTo(app, Optional.empty(), upstreamA());
            ExecutorService pool = Executors.newFixedThreadPool(4);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                fs.add(pool.submit(() -> {
                    go.await();
                    router().switchTo(app, Optional.of(upstreamA()), upstreamB());
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertThat(router().current(app)).contains(upstreamB());
            assertThat(servedBy(app)).contains(upstreamB());
        }
    }
}
