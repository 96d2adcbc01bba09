package dev.fleet.migration.http.resilience;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Polls both engines for running containers of some apps, on its own thread, until stopped:
 * every poll that finds one app running on both nodes at once is a violation.
 */
final class CopyWatch {
    private final ResilienceFleet fleet;
    private final Set<String> apps;
    private final List<String> violations = new ArrayList<>();
    private final AtomicInteger polls = new AtomicInteger();
    private volatile boolean stop;
    private Thread thread;

    CopyWatch(ResilienceFleet fleet, Set<String> apps) {
        this.fleet = fleet;
        this.apps = Set.copyOf(apps);
    }

    private static boolean runs(List<String> names, String app) {
        return names.stream().anyMatch(n -> n.equals(app) || n.startsWith(app + "."));
    }

    CopyWatch start() {
        thread = new Thread(() -> {
            while (!stop) {
                try {
                    List<String> a = List.of(Docker.run(fleet.dockerA, "ps", "--format", "{{.Names}}").split("\n"));
                    List<String> b = List.of(Docker.run(fleet.dockerB, "ps", "--format", "{{.Names}}").split("\n"));
                    polls.incrementAndGet();
                    for (String app : apps) {
                        if (runs(a, app) && runs(b, app)) {
                            synchronized (violations) {
                                violations.add(app + " runs on a and on b at " + java.time.Instant.now());
                            }
                        }
                    }
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                } catch (AssertionError e) {
                    synchronized (violations) {
                        violations.add("could not poll: " + e.getMessage());
                    }
                }
            }
        }, "copy-watch");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    void stop() throws InterruptedException {
        stop = true;
        thread.join(10_000);
    }

    List<String> violations(String app) {
        synchronized (violations) {
            return violations.stream().filter(v -> v.startsWith(app + " ") || v.startsWith("could not")).toList();
        }
    }

    int polls() {
        return polls.get();
    }
}
