package dev.fleet.migration.docker.archive;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.function.LongConsumer;

/**
 * Writes to a file channel in 1 MiB buffers and hands each buffer, once written, to a
 * {@link HashPipe}: the sha256 of exactly the bytes written, computed on a second thread.
 * {@link #close()} closes neither the channel nor anything else the caller owns; it only stops
 * the hasher when {@link #finish()} was not reached.
 */
final class HashingChannelOutput extends OutputStream {
    private final FileChannel channel;
    private final HashPipe pipe;
    private HashPipe.Chunk current;
    private long count;

    HashingChannelOutput(FileChannel channel, String name) {
        this.channel = channel;
        this.pipe = new HashPipe(Digests.sha256(), name);
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
     * Copies exactly {@code size} bytes of {@code source} from its position, through the same
     * buffers, so they are hashed as they are written.
     */
    void copyFrom(FileChannel source, long size, LongConsumer copied) throws IOException {
        long left = size;
        while (left > 0) {
            if (current == null) {
                current = pipe.take();
            }
            ByteBuffer bb = ByteBuffer.wrap(current.data, current.length,
                    (int) Math.min(left, current.data.length - current.length));
            int n = source.read(bb);
            if (n < 0) {
                throw new IOException("the spooled part ended after " + (size - left) + " of " + size + " bytes");
            }
            current.length += n;
            count += n;
            left -= n;
            copied.accept(n);
            if (current.length == current.data.length) {
                emit();
            }
        }
    }

    /**
     * Does nothing: only whole buffers go out before {@link #finish()}, so a writer that flushes
     * after every small write does not hand the hasher a stream of tiny buffers.
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
        pipe.submit(c, false);
    }

    /** Bytes written so far. */
    long count() {
        return count;
    }

    /** Writes what is buffered and returns the sha256 of everything written. */
    String finish() throws IOException {
        if (current != null) {
            emit();
        }
        return pipe.finish();
    }

    @Override
    public void close() {
        pipe.close();
    }
}
