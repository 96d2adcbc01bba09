package dev.fleet.migration.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.spi.Upstream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What the nginx router promises beyond the contract, shown against the real nginx. */
class NginxProxyRouterIT {
    private static final NamedServer A = new NamedServer("upstream-a");
    private final NginxProxyRouter router = ProxyTestEnvironment.nginxRouter();
    private final AppRef app = AppRef.container("nginx-it-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36));

    @AfterEach
    void removeRoute() {
        router.remove(app);
    }

    @AfterAll
    static void stopServer() {
        A.close();
    }

    @Test
    @DisplayName("a config nginx -t refuses is rolled back: the old file, the old route, still served, no temp files left")
    void rejectedConfigIsRolledBack() throws Exception {
        router.switchTo(app, Optional.empty(), A.upstream());
        Path file = Path.of(ProxyTestEnvironment.env("FLEET_TEST_NGINX_CONF_DIR")).resolve("route-" + app.name() + ".conf");
        String before = Files.readString(file);
        // nginx resolves upstream names when it loads its config: an unresolvable one fails nginx -t
        Upstream unresolvable = new Upstream("no-such-host.invalid", 8080);
        assertThatThrownBy(() -> router.switchTo(app, Optional.of(A.upstream()), unresolvable))
                .isInstanceOf(ProxyException.class)
                .hasMessageContaining("nginx -t");
        assertThat(Files.readString(file)).isEqualTo(before);
        assertThat(router.current(app)).contains(A.upstream());
        assertThat(ProxyTestEnvironment.servedBy(ProxyTestEnvironment.nginxHttp(), app, A)).contains(A.upstream());
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    @Test
    @DisplayName("the first switch to an app that has no route fails cleanly when rolled back: no file is left")
    void rejectedFirstRouteLeavesNoFile() {
        Upstream unresolvable = new Upstream("no-such-host.invalid", 8080);
        assertThatThrownBy(() -> router.switchTo(app, Optional.empty(), unresolvable)).isInstanceOf(ProxyException.class);
        assertThat(router.current(app)).isEmpty();
    }
}
