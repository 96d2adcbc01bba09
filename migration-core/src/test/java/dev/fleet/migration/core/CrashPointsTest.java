package dev.fleet.migration.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Test-only crash points")
class CrashPointsTest {
    private static final MigrationId M = MigrationId.of("m-crash-1");

    @Test
    @DisplayName("unset, nothing is armed and every point passes")
    void noneDoesNothing() {
        assertThat(CrashPoints.NONE.armed()).isFalse();
        CrashPoints.NONE.reached("saved:DONE", M);
    }

    @Test
    @DisplayName("in hang mode, the first N ticks at an armed point are held for good and the rest pass")
    void hangHoldsTheQuota() throws Exception {
        CrashPoints points = CrashPoints.parse("saved:CUTOVER*1, submitted:STOP_SOURCE", CrashPoints.Mode.HANG);
        assertThat(points.armed()).isTrue();
        Thread held = new Thread(() -> points.reached("saved:CUTOVER", M));
        held.setDaemon(true);
        held.start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (held.getState() != Thread.State.WAITING && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        assertThat(held.getState()).as("held at the point").isEqualTo(Thread.State.WAITING);
        points.reached("saved:CUTOVER", M); // quota used up: passes
        points.reached("saved:DONE", M); // not armed: passes
    }

    @Test
    @DisplayName("a malformed count is refused with the setting's name")
    void refusesBadCount() {
        assertThatThrownBy(() -> CrashPoints.parse("saved:DONE*x", CrashPoints.Mode.HALT))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("crashAt");
    }
}
