package dev.fleet.migration.examples;

import static dev.fleet.migration.examples.CutoverEnvironment.dockerA;
import static dev.fleet.migration.examples.CutoverEnvironment.dockerB;
import static dev.fleet.migration.examples.CutoverEnvironment.hostOf;
import static dev.fleet.migration.examples.CutoverEnvironment.nginxHttp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.StateMachine;
import dev.fleet.migration.core.spi.Upstream;
import dev.fleet.migration.proxy.NginxProxyRouter;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The polling client of {@link CutoverThroughCaddyIT} in front of the real nginx
 * ({@link NginxProxyRouter}: route-last cutover, an upstream file and {@code nginx -s reload}).
 * nginx does not hold a request for an upstream that is down, so requests that arrive while the
 * app restarts fail: the count is reported, not asserted; what is asserted is that the migration
 * ends DONE with the route on the target and the target serving through nginx.
 */
class CutoverThroughNginxIT {
    private final NginxProxyRouter router = CutoverEnvironment.nginxRouter();
    private final String name = CutoverApp.freshName("cutngx");
    private CutoverApp app;
    private CutoverFleet fleet;

    @AfterEach
    void cleanUp() {
        if (fleet != null) {
            fleet.close();
        }
        router.remove(AppRef.parse(name));
        if (app != null) {
            app.removeEverywhere();
        }
    }

    @Test
    @DisplayName("a client polling through nginx every 10 ms during a migration: DONE, route on the target; failed "
            + "responses and the client's downtime reported")
    void pollingClientThroughNginx() {
        app = CutoverApp.start(dockerA(), name, List.of());
        router.switchTo(AppRef.parse(name), Optional.empty(), new Upstream(CutoverFleet.UPSTREAM_A, app.port));
        awaitServedThroughNginx(app.sourceContainer);
        fleet = new CutoverFleet(router, (previous, saved) -> {});

        PollingClient client = new PollingClient(nginxHttp(), hostOf(name), "/who", Duration.ofMillis(10));
        Migration m;
        try {
            CutoverEnvironment.sleep(300);
            m = fleet.migrate(name, "a", "b", Duration.ofSeconds(90));
            app.learnTarget(dockerB());
            CutoverEnvironment.sleep(300);
        } finally {
            client.close();
        }
        PollingClient.View view = client.view(app);
        String report = "migration " + m.state() + " " + m.failure().map(Object::toString).orElse("") + ", order "
                + m.facts().get(StateMachine.FACT_CUTOVER_ORDER) + ", downtime "
                + m.downtime().map(Duration::toMillis).orElse(-1L) + " ms; client: " + view + "; every request in "
                + client.writeCsv(Path.of("target", "cutover-requests", "nginx-" + name + ".csv"), app);
        System.out.println("[nginx client] " + report);

        assertThat(m.state()).as(report).isEqualTo(MigrationState.DONE);
        assertThat(m.facts()).as(report).containsEntry(StateMachine.FACT_CUTOVER_ORDER, StateMachine.ROUTE_LAST);
        assertThat(router.current(AppRef.parse(name))).contains(new Upstream(CutoverFleet.UPSTREAM_B, app.port));
        assertThat(view.answered("source")).as(report).isPositive();
        assertThat(view.answered("target")).as(report).isPositive();
        assertThat(view.answeredBy().keySet()).as(report).containsOnly("source", "target");
        awaitServedThroughNginx(app.targetContainer());
    }

    private void awaitServedThroughNginx(String containerId) {
        long until = System.nanoTime() + 10_000_000_000L;
        String last = "";
        while (System.nanoTime() < until) {
            try {
                HttpGet.Answer a = HttpGet.get(nginxHttp(), hostOf(name), "/who", 2_000);
                last = a.status() + " " + a.body().strip();
                if (a.status() == 200 && a.body().strip().equals(containerId)) {
                    return;
                }
            } catch (IOException e) {
                last = e.toString();
            }
            CutoverEnvironment.sleep(50);
        }
        throw new AssertionError("nginx did not serve container " + containerId + " within 10 s; last: " + last);
    }
}
