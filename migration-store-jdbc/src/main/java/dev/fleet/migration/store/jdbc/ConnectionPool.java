package dev.fleet.migration.store.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Semaphore;

/**
 * At most {@code max} connections, opened on demand and reused. Small on purpose: the store needs
 * no more than a handful, and this keeps the module free of a pool library. Thread-safe.
 */
final class ConnectionPool implements AutoCloseable {

    /** Opens one new, fully configured connection. */
    @FunctionalInterface
    interface Opener {
        Connection open() throws SQLException;
    }

    private final Opener opener;
    private final Semaphore permits;
    private final Deque<Connection> idle = new ArrayDeque<>();
    private boolean closed;

    ConnectionPool(Opener opener, int max) {
        if (max < 1) {
            throw new IllegalArgumentException("a pool needs at least one connection, not " + max);
        }
        this.opener = opener;
        this.permits = new Semaphore(max, true);
    }

    /** A connection for the caller's exclusive use until {@link #release}. */
    Connection borrow() throws SQLException, InterruptedException {
        permits.acquire();
        try {
            Connection c;
            synchronized (this) {
                if (closed) {
                    throw new IllegalStateException("closed");
                }
                c = idle.pollFirst();
            }
            return c != null ? c : opener.open();
        } catch (SQLException | RuntimeException e) {
            permits.release();
            throw e;
        }
    }

    /** Gives a connection back; a broken one (or any, once closed) is closed instead of kept. */
    void release(Connection c, boolean broken) {
        try {
            boolean keep;
            synchronized (this) {
                keep = !closed && !broken;
                if (keep) {
                    idle.addFirst(c);
                }
            }
            if (!keep) {
                closeQuietly(c);
            }
        } finally {
            permits.release();
        }
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /** Closes the idle connections now and every borrowed one as it comes back. Idempotent. */
    @Override
    public void close() {
        Deque<Connection> toClose;
        synchronized (this) {
            closed = true;
            toClose = new ArrayDeque<>(idle);
            idle.clear();
        }
        toClose.forEach(ConnectionPool::closeQuietly);
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // nothing useful to do: the connection is gone either way
        }
    }
}
