package dev.fleet.migration.docker.archive;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/**
 * Writes to a file channel in 1 MiB buffers and hands each buffer, once written, to a
 * {@link HashPipe}: the sha256 of exactly the bytes written, computed on a second thread.
 *
 * <p>With {@code flushEvery > 0}, a third thread starts writing the file back to disk
 * ({@code fdatasync}) each time that many more bytes were written, so the disk works while the
 * archive is still being produced and the final {@code fsync} only has the tail left to write.
 *
 * <p>{@link #close()} closes neither the channel nor anything else the caller owns; it only stops
 * the helper threads when {@link #finish()} was not reached.
 */
final class HashingChannelOutput extends OutputStream {
    private final FileChannel channel;
    private final HashPipe pipe;
    private final long flushEvery;
    private final Semaphore flushRequests = new Semaphore(0);
    private final Thread flusher;
    private volatile boolean flusherStop;
    private volatile IOException flushFailure;
    private HashPipe.Chunk current;
    private long count;
    private long nextFlush;

    HashingChannelOutput(FileChannel channel, String name) {
        this(channel, name, 0);
    }

    HashingChannelOutput(FileChannel channel, String name, long flushEvery) {
        this.channel = channel;
        this.pipe = new HashPipe(Digests.sha256(), name);
        this.flushEvery = flushEvery;
        this.nextFlush = flushEvery;
        if (flushEvery > 0) {
            flusher = new Thread(this::flushLoop, "fleet-writeback-" + name);
            flusher.setDaemon(true);
            flusher.start();
        } else {
            flusher = null;
        }
    }

    private void flushLoop() {
        try {
            while (true) {
                flushRequests.acquire();
                flushRequests.drainPermits(); // one writeback covers every request made meanwhile
                if (flusherStop) {
                    return;
                }
                channel.force(false);
            }
        } catch (InterruptedException e) {
            // stopped
        } catch (IOException e) {
            flushFailure = e;
        }
    }

    @Override
    public void write(int b) throws IOException {
        if (current == null) {
            current = pipe.take();
        }
        current.data[current.length++] = (byte) b;
        count++;
        if (current.length == current.data.length) {
            emit();
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        while (len > 0) {
            if (current == null) {
                current = pipe.take();
            }
            int n = Math.min(len, current.data.length - current.length);
            System.arraycopy(b, off, current.data, current.length, n);
            current.length += n;
            count += n;
            off += n;
            len -= n;
            if (current.length == current.data.length) {
                emit();
            }
        }
    }

    /**
     * Does nothing: only whole buffers go out before {@link #mark()} or {@link #finish()}, so a
     * writer that flushes after every small write does not hand the hasher a stream of tiny buffers.
     */
    @Override
    public void flush() {
        // see above
    }

    private void emit() throws IOException {
        HashPipe.Chunk c = current;
        current = null;
        if (c.length == 0) {
            pipe.unused(c);
            return;
        }
        ByteBuffer bb = ByteBuffer.wrap(c.data, 0, c.length);
        while (bb.hasRemaining()) {
            channel.write(bb);
        }
        pipe.submit(c);
        if (flusher != null && count >= nextFlush) {
            if (flushFailure != null) {
                throw flushFailure;
            }
            nextFlush = count + flushEvery;
            flushRequests.release();
        }
    }

    /** Bytes written so far. */
    long count() {
        return count;
    }

    /** The sha256 of every byte written so far (this waits for the hasher to get there). */
    String mark() throws IOException {
        if (current != null) {
            emit();
        }
        CompletableFuture<String> f = pipe.mark();
        return pipe.await(f);
    }

    /** Writes what is buffered and returns the sha256 of everything written. */
    String finish() throws IOException {
        if (current != null) {
            emit();
        }
        String sha = pipe.finish();
        stopFlusher();
        if (flushFailure != null) {
            throw flushFailure;
        }
        return sha;
    }

    private void stopFlusher() {
        if (flusher != null && flusher.isAlive()) {
            flusherStop = true;
            flushRequests.release();
            try {
                flusher.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        pipe.close();
        if (flusher != null && flusher.isAlive()) {
            flusher.interrupt();
            stopFlusher();
        }
    }
}
