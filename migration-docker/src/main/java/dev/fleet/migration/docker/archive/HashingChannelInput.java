package dev.fleet.migration.docker.archive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * Reads a channel in 1 MiB buffers and hands the bytes the consumer has read to a
 * {@link HashPipe}: the sha256 of exactly the bytes this stream returns (and of any it has not
 * returned yet when {@link #finish()} drains the rest), computed on a second thread. Not a
 * re-read: one read of the file serves both the consumer and the digest.
 *
 * <p>A buffer is handed over once the consumer has moved past it, or up to the consumer's
 * position at a {@link #mark()}, so a mark yields the sha256 of exactly the bytes consumed before
 * it.
 */
final class HashingChannelInput extends InputStream {
    private final ReadableByteChannel channel;
    private final HashPipe pipe;
    private HashPipe.Chunk current;
    private int position;
    private int handedOver;
    private long consumed;
    private boolean eof;

    HashingChannelInput(ReadableByteChannel channel, String name) {
        this.channel = channel;
        this.pipe = new HashPipe(Digests.sha256(), name);
    }

    /** Makes {@code current} hold unread bytes; false at the end of the channel. */
    private boolean fill() throws IOException {
        if (current != null && position < current.length) {
            return true;
        }
        if (current != null) {
            pipe.submit(current, handedOver, current.length, true);
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
        current = c;
        position = 0;
        handedOver = 0;
        return true;
    }

    @Override
    public int read() throws IOException {
        if (!fill()) {
            return -1;
        }
        consumed++;
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
        consumed += n;
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
        consumed += done;
        return done; // skipped bytes are hashed all the same: the hasher sees every buffer read
    }

    @Override
    public int available() {
        return current == null ? 0 : current.length - position;
    }

    /** Bytes returned (or skipped) so far. */
    long consumed() {
        return consumed;
    }

    /** The sha256 of exactly the bytes consumed so far (waits for the hasher to get there). */
    String mark() {
        if (current != null && position > handedOver) {
            pipe.submit(current, handedOver, position, false);
            handedOver = position;
        }
        return pipe.await(pipe.mark());
    }

    /** Reads the rest of the channel and returns the sha256 of all of it. */
    String finish() throws IOException {
        while (fill()) {
            consumed += current.length - position;
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
