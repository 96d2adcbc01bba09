package dev.fleet.migration.docker.archive;

import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Computes a sha256 on a second thread, so hashing (about 1 s per GiB here) overlaps the I/O of
 * the thread that moves the bytes. The bytes are handed over in pooled buffers, in order, and
 * hashed exactly as handed over: the digest covers the very bytes the caller wrote or read, never
 * a second read of a file.
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

    private static final Chunk END = new Chunk(new byte[0]);

    private final MessageDigest digest;
    private final BlockingQueue<Chunk> toHash = new ArrayBlockingQueue<>(BUFFERS + 1);
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
                Chunk c = toHash.take();
                if (c == END) {
                    return;
                }
                digest.update(c.data, 0, c.length);
                release(c);
            }
        } catch (InterruptedException e) {
            failure = e; // closed before the end: nobody waits for the digest
        } catch (RuntimeException | Error e) {
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
                c = free.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ArchiveException("interrupted while waiting for the sha256 thread", e);
        }
        c.length = 0;
        return c;
    }

    /**
     * Hands {@code c}'s first {@code c.length} bytes to the hasher. With {@code keep}, the caller
     * still reads the buffer and must {@link #release} it when done; otherwise it must not touch
     * it again.
     */
    void submit(Chunk c, boolean keep) {
        c.holders.set(keep ? 2 : 1);
        put(c);
    }

    /** Returns a buffer that was taken but never submitted. */
    void unused(Chunk c) {
        free.offer(c);
    }

    /** Gives a kept buffer back; it is reused once the hasher is done with it too. */
    void release(Chunk c) {
        if (c.holders.decrementAndGet() == 0) {
            free.offer(c);
        }
    }

    private void put(Chunk c) {
        try {
            while (!toHash.offer(c, 100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
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
