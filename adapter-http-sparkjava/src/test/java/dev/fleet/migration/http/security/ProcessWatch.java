package dev.fleet.migration.http.security;

import java.security.Permission;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Counts the external processes this JVM starts while it is open: every
 * {@link ProcessBuilder#start()} (and {@code Runtime.exec}) asks the security manager
 * {@code checkExec} first, so a permissive manager that only records those calls sees each
 * spawn, even one that ends at once. Nothing else is checked or refused. Java 17 still allows
 * installing one at run time; if a JVM refuses, {@link #open()} fails loudly rather than
 * silently proving nothing.
 */
@SuppressWarnings("removal")
public final class ProcessWatch implements AutoCloseable {
    private final List<String> spawned = new CopyOnWriteArrayList<>();
    private final SecurityManager previous;

    private ProcessWatch() {
        previous = System.getSecurityManager();
        System.setSecurityManager(new SecurityManager() {
            @Override
            public void checkPermission(Permission perm) {
                // everything is allowed: this manager only watches
            }

            @Override
            public void checkPermission(Permission perm, Object context) {
            }

            @Override
            public void checkExec(String cmd) {
                spawned.add(cmd);
            }
        });
    }

    public static ProcessWatch open() {
        return new ProcessWatch();
    }

    /** The programs started since {@link #open()}. */
    public List<String> spawned() {
        return List.copyOf(spawned);
    }

    @Override
    public void close() {
        System.setSecurityManager(previous);
    }
}
