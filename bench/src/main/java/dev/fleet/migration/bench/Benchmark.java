package dev.fleet.migration.bench;

import java.util.List;

/** A benchmark: measures its figures and their baselines in one run. */
public interface Benchmark {
    /** The services it needs, in the order bench/run.sh starts them. */
    List<String> SERVICES = List.of("docker", "ssh", "pools", "proxy");

    String name();

    /**
     * Which of the services in {@code scripts/ci/services/} it needs up ({@link #SERVICES}: two
     * Docker engines, the test sshd, the btrfs and ZFS pools, Caddy and nginx); bench/run.sh
     * starts them, sources their env files and stops them at the end. Reading them must not need
     * the services: the benchmark reads their variables only when it runs.
     */
    default List<String> services() {
        return List.of();
    }

    List<Figure> run() throws Exception;
}
