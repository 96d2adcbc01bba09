package dev.fleet.migration.docker.archive;

import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Computes a sha256 on a second thread, so hashing overlaps the I/O of the thread that moves the
 * bytes. The bytes are handed over in pooled buffers, in order, and hashed exactly as handed
 * over: the digest covers the very bytes the caller wrote or read, never a second read of a
 * file. A {@link #mark()} between two hand-overs yields the sha256 of everything handed over
 * before it while hashing goes on: one pass gives the archive's body digest and its whole-file
 * digest.
 *
 * <p>Memory is bounded: at most {@link #BUFFERS} buffers of {@link #BUFFER_SIZE} bytes exist per
 * pipe, and a caller that runs ahead of the hasher waits for a free one.
 *
 * <p>One producer thread; not reusable after {@link #finish()} or {@link #close()}.
 */
final class HashPipe implements AutoCloseable {
    static final int BUFFER_SIZE = 1024 * 1024;
    static final int BUFFERS = 4;

    /** A buffer handed to the hasher; returns to the pool once every holder released it. */
    static final class Chunk {
        final byte[] data;
        int length;
        private final AtomicInteger holders = new AtomicInteger();

        private Chunk(byte[] data) {
            this.data = data;
        }
    }

    /** One unit of the hasher's work: a range of a buffer, or a mark. */
    private record Task(Chunk chunk, int from, int to, boolean release, CompletableFuture<String> mark) {}

    private static final Task END = new Task(null, 0, 0, false, null);

    private final MessageDigest digest;
    private final BlockingQueue<Task> toHash = new ArrayBlockingQueue<>(4 * BUFFERS + 4);
    private final BlockingQueue<Chunk> free = new ArrayBlockingQueue<>(BUFFERS);
    private final Thread thread;
    private int allocated;
    private volatile Throwable failure;
    private boolean ended;

    HashPipe(MessageDigest digest, String name) {
        this.digest = digest;
        this.thread = new Thread(this::run, "fleet-sha256-" + name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void run() {
        try {
            while (true) {
                Task t = toHash.take();
                if (t == END) {
                    return;
                }
                if (t.mark != null) {
                    t.mark.complete(Digests.hex((MessageDigest) digest.clone()));
                    continue;
                }
                digest.update(t.chunk.data, t.from, t.to - t.from);
                if (t.release) {
                    release(t.chunk);
                }
            }
        } catch (InterruptedException e) {
            failure = e; // closed before the end: nobody waits for the digest
        } catch (CloneNotSupportedException | RuntimeException | Error e) {
            failure = e;
        }
    }

    /** A free buffer to fill; waits while all of them are in flight. */
    Chunk take() {
        Chunk c = free.poll();
        if (c == null && allocated < BUFFERS) {
            allocated++;
            c = new Chunk(new byte[BUFFER_SIZE]);
        }
        try {
            while (c == null) {
                checkHasher();
                c = free.poll(100, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ArchiveException("interrupted while waiting for the sha256 thread", e);
        }
        c.length = 0;
        c.holders.set(1);
        return c;
    }

    /**
     * Hands bytes {@code [from, to)} of {@code c} to the hasher. With {@code last}, the caller
     * hands nothing more of this buffer and gives up its hold: the buffer returns to the pool
     * once hashed (and once {@link #release}d, for a caller that still reads it).
     */
    void submit(Chunk c, int from, int to, boolean last) {
        if (to > from) {
            put(new Task(c, from, to, last, null));
        } else if (last) {
            release(c);
        }
    }

    /** Hands {@code c}'s first {@code c.length} bytes over and gives the buffer up (the writer's case). */
    void submit(Chunk c) {
        submit(c, 0, c.length, true);
    }

    /** The caller keeps reading {@code c} after handing it over; it {@link #release}s it when done. */
    void hold(Chunk c) {
        c.holders.incrementAndGet();
    }

    /** Returns a buffer that was taken but never submitted. */
    void unused(Chunk c) {
        c.holders.set(0);
        free.offer(c);
    }

    /** Gives up one hold on a buffer; it is reused once nobody holds it. */
    void release(Chunk c) {
        if (c.holders.decrementAndGet() == 0) {
            free.offer(c);
        }
    }

    /** The sha256 of everything handed over so far, computed when the hasher gets there. */
    CompletableFuture<String> mark() {
        CompletableFuture<String> f = new CompletableFuture<>();
        put(new Task(null, 0, 0, false, f));
        return f;
    }

    /** Waits for a mark's digest. */
    String await(CompletableFuture<String> mark) {
        try {
            while (true) {
                checkHasher();
                try {
                    return mark.get(100, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.TimeoutException notYet) {
                    // keep waiting while the hasher lives
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ArchiveException("interrupted while waiting for the sha256 thread", e);
        } catch (ExecutionException e) {
            throw new ArchiveException("the sha256 thread failed: " + e.getCause(), e.getCause());
        }
    }

    private void put(Task t) {
        try {
            while (!toHash.offer(t, 100, TimeUnit.MILLISECONDS)) {
                checkHasher();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ArchiveException("interrupted while handing bytes to the sha256 thread", e);
        }
    }

    private void checkHasher() {
        if (failure != null) {
            throw new ArchiveException("the sha256 thread failed: " + failure, failure);
        }
        if (!thread.isAlive()) {
            throw new ArchiveException("the sha256 thread ended early");
        }
    }

    /** Waits until everything submitted is hashed and returns the hex digest. */
    String finish() {
        if (ended) {
            throw new IllegalStateException("finished twice");
        }
        put(END);
        ended = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ArchiveException("interrupted while waiting for the sha256 thread", e);
        }
        if (failure != null) {
            throw new ArchiveException("the sha256 thread failed: " + failure, failure);
        }
        return Digests.hex(digest);
    }

    /** Stops the hasher if {@link #finish()} was not reached (an error on the caller's side). */
    @Override
    public void close() {
        if (!ended) {
            ended = true;
            thread.interrupt();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
