package dev.fleet.migration.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.UnavailableException;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What the Caddy router promises beyond the contract, shown against the real Caddy. */
class CaddyProxyRouterIT {
    private static final NamedServer A = new NamedServer("upstream-a");
    private static final NamedServer B = new NamedServer("upstream-b");
    private final CaddyProxyRouter router = ProxyTestEnvironment.caddyRouter();
    private final AppRef app = AppRef.container("caddy-it-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36));

    @AfterEach
    void removeRoute() {
        A.start();
        B.start();
        router.remove(app);
    }

    @AfterAll
    static void stopServers() {
        A.close();
        B.close();
    }

    @Test
    @DisplayName("a client polling every 10 ms while the route is switched back and forth 20 times gets no failed response")
    void switchingLosesNoRequest() throws Exception {
        router.switchTo(app, Optional.empty(), A.upstream());
        try (Poller poller = new Poller(ProxyTestEnvironment.caddyHttp(), app)) {
            Thread.sleep(200);
            for (int i = 0; i < 20; i++) {
                NamedServer from = i % 2 == 0 ? A : B;
                NamedServer to = i % 2 == 0 ? B : A;
                router.switchTo(app, Optional.of(from.upstream()), to.upstream());
                Thread.sleep(100);
            }
            Thread.sleep(200);
            poller.close();
            assertThat(poller.failures).as("failed responses out of %d", poller.sent.get()).isEmpty();
            assertThat(poller.answered("upstream-a")).isPositive();
            assertThat(poller.answered("upstream-b")).isPositive();
            assertThat(poller.sent.get()).as("requests sent").isGreaterThan(50);
        }
        assertThat(router.current(app)).contains(A.upstream());
    }

    @Test
    @DisplayName("requests that arrive while the new upstream is still starting wait for it and succeed (try_duration)")
    void requestsWaitForStartingUpstream() throws Exception {
        router.switchTo(app, Optional.empty(), A.upstream());
        B.stop();
        try (Poller poller = new Poller(ProxyTestEnvironment.caddyHttp(), app)) {
            Thread.sleep(200);
            int beforeSwitch = poller.sent.get();
            // the route moves to B while B is still down, then A stops: for about a second no
            // upstream listens at all, and B comes up 500 ms after A stopped
            router.switchTo(app, Optional.of(A.upstream()), B.upstream());
            Thread.sleep(500);
            A.stop();
            Thread.sleep(500);
            B.start();
            Thread.sleep(500);
            poller.close();
            assertThat(poller.failures).as("failed responses out of %d", poller.sent.get()).isEmpty();
            assertThat(poller.answered("upstream-b")).isPositive();
            // requests kept coming through the outage; each may wait up to a second in Caddy, so
            // how many fit in the 1.5 s depends on the machine's load (10 is too many on a busy CI)
            assertThat(poller.sent.get() - beforeSwitch).as("requests sent after the switch").isGreaterThan(3);
        }
    }

    @Test
    @DisplayName("Caddy 2.6 answers 502 to a request still retrying a dead upstream when the route switches (the old config's retry loop ends)")
    void requestRetryingDeadUpstreamAtSwitchGets502() throws Exception {
        // not a promise but a pinned fact the cutover protocol must design around: switch the
        // route before the old upstream goes away, or accept that requests waiting on it fail
        router.switchTo(app, Optional.empty(), A.upstream());
        A.stop();
        java.util.concurrent.CompletableFuture<ProxyTestEnvironment.Answer> waiting = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return ProxyTestEnvironment.get(ProxyTestEnvironment.caddyHttp(), app);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Thread.sleep(300);
        assertThat(waiting).as("the request waits on the dead upstream (try_duration)").isNotDone();
        long t = System.nanoTime();
        router.switchTo(app, Optional.of(A.upstream()), B.upstream());
        ProxyTestEnvironment.Answer a = waiting.get(10, TimeUnit.SECONDS);
        assertThat(a.status()).isEqualTo(502);
        assertThat((System.nanoTime() - t) / 1_000_000).as("ms from switch to 502").isLessThan(2000);
        assertThat(ProxyTestEnvironment.servedBy(ProxyTestEnvironment.caddyHttp(), app, A, B)).contains(B.upstream());
    }

    @Test
    @DisplayName("an unreachable admin endpoint is UnavailableException naming it, and the route is unchanged once Caddy is back")
    void adminDownIsUnavailableAndChangesNothing() throws Exception {
        router.switchTo(app, Optional.empty(), A.upstream());
        Path pidFile = Path.of(ProxyTestEnvironment.env("FLEET_TEST_CADDY_PIDFILE"));
        Path dir = Path.of(ProxyTestEnvironment.env("FLEET_TEST_CADDY_DIR"));
        long pid = Long.parseLong(Files.readString(pidFile).trim());
        ProcessHandle caddy = ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("caddy pid " + pid + " is not running"));
        caddy.destroy();
        caddy.onExit().get(10, TimeUnit.SECONDS);
        try {
            assertThatThrownBy(() -> router.switchTo(app, Optional.of(A.upstream()), B.upstream()))
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining(ProxyTestEnvironment.caddyAdmin());
            assertThatThrownBy(() -> router.current(app)).isInstanceOf(UnavailableException.class);
        } finally {
            restartCaddy(dir, pidFile);
        }
        assertThat(router.current(app)).contains(A.upstream());
        assertThat(ProxyTestEnvironment.servedBy(ProxyTestEnvironment.caddyHttp(), app, A, B)).contains(A.upstream());
    }

    /** Starts the test Caddy again from its autosaved config, as proxy.sh would, and waits for its admin API. */
    private void restartCaddy(Path dir, Path pidFile) throws Exception {
        File log = dir.resolve("caddy.log").toFile();
        ProcessBuilder pb = new ProcessBuilder(ProxyTestEnvironment.env("FLEET_TEST_CADDY_BIN"), "run", "--resume",
                "--config", ProxyTestEnvironment.env("FLEET_TEST_CADDY_CONFIG"), "--pidfile", pidFile.toString())
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log))
                .redirectError(ProcessBuilder.Redirect.appendTo(log));
        // the same HOME and XDG dirs as proxy.sh gave it, so --resume finds the autosaved config
        pb.environment().put("HOME", dir.resolve("home").toString());
        pb.environment().put("XDG_DATA_HOME", dir.resolve("data").toString());
        pb.environment().put("XDG_CONFIG_HOME", dir.resolve("config").toString());
        pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            try {
                router.current(app);
                return;
            } catch (UnavailableException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("caddy did not come back; see " + dir.resolve("caddy.log"), e);
                }
                Thread.sleep(50);
            }
        }
    }
}
