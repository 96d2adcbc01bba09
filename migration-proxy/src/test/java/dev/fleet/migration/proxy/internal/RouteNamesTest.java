package dev.fleet.migration.proxy.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.spi.Upstream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RouteNamesTest {
    @Test
    void containersAndComposeProjectsNeverShareARouteKey() {
        assertThat(RouteNames.key(AppRef.container("shop"))).isEqualTo("route-shop");
        assertThat(RouteNames.key(AppRef.compose("shop"))).isEqualTo("compose-shop");
    }

    @Test
    void defaultHostsAreSubdomainsOfTheDomain() {
        var hosts = RouteNames.subdomainsOf("fleet.test");
        assertThat(hosts.apply(AppRef.container("Web_1"))).isEqualTo("web-1.fleet.test");
        assertThat(hosts.apply(AppRef.compose("shop"))).isEqualTo("shop.compose.fleet.test");
    }

    @Test
    void rejectsHostThatIsNotADnsName() {
        assertThatThrownBy(() -> RouteNames.hostOf(a -> "x; include /etc/passwd", AppRef.container("web")))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("host of app 'web'");
        assertThatThrownBy(() -> RouteNames.subdomainsOf("-bad")).isInstanceOf(InvalidInputException.class);
    }

    @Test
    void parsesDialsIncludingIpv6() {
        assertThat(RouteNames.parseDial("127.0.0.1:8080")).isEqualTo(new Upstream("127.0.0.1", 8080));
        assertThat(RouteNames.parseDial("[::1]:80")).isEqualTo(new Upstream("[::1]", 80));
        assertThatThrownBy(() -> RouteNames.parseDial("127.0.0.1")).isInstanceOf(InvalidInputException.class);
    }

    @Test
    void fnvMatchesTheEtagCaddyGaveForAnEmptyRouteList() {
        // seen from Caddy 2.6.2: GET .../routes -> "[]\n", ETag trailer "... 6dfb3b7d"
        assertThat(Fnv1a32.hex("[]\n".getBytes(StandardCharsets.UTF_8))).isEqualTo("6dfb3b7d");
    }
}
