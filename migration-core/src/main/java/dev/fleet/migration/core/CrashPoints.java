package dev.fleet.migration.core;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * <b>Test-only.</b> Lets a crash test stop a control plane at an exact point of the tick, so a
 * SIGKILL lands where the test says instead of wherever a timer happens to fall. Read once when
 * an {@link Orchestrator} is built, from the system property {@code fleet.test.crashAt} or the
 * environment variable {@code FLEET_TEST_CRASH_AT}; unset (always, in production) it does
 * nothing and costs one field read per point.
 *
 * <p>The points the orchestrator names:
 * <ul>
 *   <li>{@code preflighted}: PENDING's preflight passed on both nodes, the move to SNAPSHOTTING
 *       not yet saved;</li>
 *   <li>{@code saved:<STATE>}: the first save in a new state has just landed (for a working
 *       state, with its first operation's intent; the node not yet asked);</li>
 *   <li>{@code submitted:<KIND>}: the node accepted a newly started operation (it now runs), the
 *       record not yet told;</li>
 *   <li>{@code acknowledged:<KIND>}: the node reported the operation finished, and the record
 *       does not say so yet (between "agent acknowledged" and "state saved").</li>
 * </ul>
 * The setting is a comma-separated list of points, each optionally with {@code *N}: crash the
 * first N ticks that reach it (without it, every one). {@code saved:CUTOVER*2,submitted:STOP_SOURCE*3}
 * stops two migrations as they enter cutover and the next three after their source's stop was
 * asked for. What happens there is {@code fleet.test.crashMode} / {@code FLEET_TEST_CRASH_MODE}:
 * {@code halt} (the default) ends the JVM at once with status 137, as SIGKILL would, running no
 * shutdown hook; {@code hang} prints {@code fleet-test-crash-point <point> <migration>} on
 * standard error and parks that tick's thread for good (other ticks go on), so a test can stop
 * several migrations at their points and then send the process a real SIGKILL.
 */
public final class CrashPoints {
    /** Does nothing anywhere: the default outside crash tests. */
    public static final CrashPoints NONE = new CrashPoints(Map.of(), Mode.HALT);

    /** What happens when the point is reached. */
    public enum Mode {
        HALT, HANG
    }

    private final Map<String, AtomicInteger> quota;
    private final Mode mode;

    private CrashPoints(Map<String, AtomicInteger> quota, Mode mode) {
        this.quota = quota;
        this.mode = Objects.requireNonNull(mode, "mode");
    }

    /** Crashes at the points a setting lists ({@code point[*N],...}). */
    public static CrashPoints parse(String spec, Mode mode) {
        Map<String, AtomicInteger> quota = new LinkedHashMap<>();
        for (String part : spec.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) {
                continue;
            }
            int star = p.lastIndexOf('*');
            int n = Integer.MAX_VALUE;
            if (star > 0) {
                try {
                    n = Integer.parseInt(p.substring(star + 1));
                } catch (NumberFormatException e) {
                    throw new InvalidInputException("crashAt", spec, "must list point or point*N, comma-separated");
                }
                p = p.substring(0, star);
            }
            quota.put(p, new AtomicInteger(n));
        }
        return new CrashPoints(Map.copyOf(quota), mode);
    }

    /** What {@code fleet.test.crashAt} / {@code FLEET_TEST_CRASH_AT} say; {@link #NONE} when unset. */
    public static CrashPoints fromEnvironment() {
        String spec = setting("fleet.test.crashAt", "FLEET_TEST_CRASH_AT");
        if (spec == null || spec.isBlank()) {
            return NONE;
        }
        String mode = setting("fleet.test.crashMode", "FLEET_TEST_CRASH_MODE");
        return parse(spec, mode == null || mode.isBlank() ? Mode.HALT
                : Mode.valueOf(mode.strip().toUpperCase(Locale.ROOT)));
    }

    private static String setting(String property, String variable) {
        String v = System.getProperty(property);
        return v != null ? v : System.getenv(variable);
    }

    /** True when a point is armed. */
    public boolean armed() {
        return !quota.isEmpty();
    }

    /** Called by the orchestrator at each named point; crashes when it is armed and has quota left. */
    void reached(String name, MigrationId migration) {
        if (quota.isEmpty()) {
            return;
        }
        AtomicInteger left = quota.get(name);
        if (left == null || left.getAndDecrement() <= 0) {
            return;
        }
        if (mode == Mode.HALT) {
            Runtime.getRuntime().halt(137);
        }
        System.err.println("fleet-test-crash-point " + name + " " + migration);
        System.err.flush();
        while (true) {
            LockSupport.park(this); // until the test's SIGKILL
        }
    }

    @Override
    public String toString() {
        return quota.isEmpty() ? "CrashPoints.NONE" : "CrashPoints" + quota.keySet() + "[" + mode + "]";
    }
}
