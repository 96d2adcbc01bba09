package dev.fleet.migration.transport.internal;

import dev.fleet.migration.core.spi.Cancellation;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.Optional;

/**
 * The local file as the SFTP upload reads it: honours the bandwidth limit and the
 * cancellation on every read, and counts what was actually read (skips for a resume are not
 * counted: those bytes never cross the wire).
 */
public final class MeteredInputStream extends FilterInputStream {
    private final Optional<Throttle> throttle;
    private final Cancellation cancellation;
    private long read;

    public MeteredInputStream(InputStream in, Optional<Throttle> throttle, Cancellation cancellation) {
        super(in);
        this.throttle = throttle;
        this.cancellation = cancellation;
    }

    public long bytesRead() {
        return read;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        cancellation.check("the transfer");
        int n = super.read(b, off, len);
        if (n > 0) {
            read += n;
            if (throttle.isPresent()) {
                try {
                    throttle.get().acquire(n);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException(e.getMessage());
                }
            }
        }
        return n;
    }
}
