package dev.fleet.migration.docker.archive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Reads a file channel in 1 MiB buffers and hands each buffer to a {@link HashPipe} while it is
 * being read: the sha256 of exactly the bytes this stream returns (and of any it has not returned
 * yet when {@link #finish()} drains the rest), computed on a second thread. Not a re-read: one
 * read of the file serves both the consumer and the digest.
 */
final class HashingChannelInput extends InputStream {
    private final FileChannel channel;
    private final HashPipe pipe;
    private HashPipe.Chunk current;
    private int position;
    private boolean eof;

    HashingChannelInput(FileChannel channel, String name) {
        this.channel = channel;
        this.pipe = new HashPipe(Digests.sha256(), name);
    }

    /** Makes {@code current} hold unread bytes; false at the end of the file. */
    private boolean fill() throws IOException {
        if (current != null && position < current.length) {
            return true;
        }
        if (current != null) {
            pipe.release(current);
            current = null;
        }
        if (eof) {
            return false;
        }
        HashPipe.Chunk c = pipe.take();
        ByteBuffer bb = ByteBuffer.wrap(c.data);
        while (bb.hasRemaining()) {
            if (channel.read(bb) < 0) {
                eof = true;
                break;
            }
        }
        c.length = bb.position();
        if (c.length == 0) {
            pipe.unused(c);
            return false;
        }
        pipe.submit(c, true);
        current = c;
        position = 0;
        return true;
    }

    @Override
    public int read() throws IOException {
        if (!fill()) {
            return -1;
        }
        return current.data[position++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, current.length - position);
        System.arraycopy(current.data, position, b, off, n);
        position += n;
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long done = 0;
        while (done < n && fill()) {
            int k = (int) Math.min(n - done, current.length - position);
            position += k;
            done += k;
        }
        return done; // skipped bytes are hashed all the same: the hasher sees every buffer read
    }

    @Override
    public int available() {
        return current == null ? 0 : current.length - position;
    }

    /** Reads the rest of the file and returns the sha256 of all of it. */
    String finish() throws IOException {
        while (fill()) {
            position = current.length;
        }
        return pipe.finish();
    }

    /** Stops the hasher; the channel belongs to the caller. */
    @Override
    public void close() {
        pipe.close();
    }
}
