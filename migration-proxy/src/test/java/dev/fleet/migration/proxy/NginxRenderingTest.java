package dev.fleet.migration.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.spi.Upstream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NginxRenderingTest {
    private final NginxProxyRouter router = NginxProxyRouter.builder(Path.of("/usr/sbin/nginx"), Path.of("/p"),
            Path.of("/p/nginx.conf"), Path.of("/p/routes")).listen("127.0.0.1", 8080).build();

    @Test
    void rendersOneServerBlockWithTheUpstreamAndGeneration() {
        String conf = router.render(AppRef.container("web"), "web.fleet.test", new Upstream("127.0.0.1", 9001), "abc123");
        assertThat(conf).startsWith("# fleet-route app=web upstream=127.0.0.1:9001 generation=abc123\n")
                .contains("listen 127.0.0.1:8080;", "server_name web.fleet.test;", "proxy_pass http://127.0.0.1:9001;",
                        "add_header X-Fleet-Route abc123 always;");
    }

    @Test
    void rejectsRelativeOrHostilePaths() {
        assertThatThrownBy(() -> NginxProxyRouter.builder(Path.of("nginx"), Path.of("/p"), Path.of("/p/n.conf"), Path.of("/p/r")))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("nginx.binary");
        assertThatThrownBy(() -> NginxProxyRouter.builder(Path.of("/usr/sbin/nginx"), Path.of("/p;x"), Path.of("/p/n.conf"), Path.of("/p/r")))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("nginx.prefix");
    }
}
