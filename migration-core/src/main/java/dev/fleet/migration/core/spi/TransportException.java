package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.MigrationException;

/** A transfer failed; {@link #reason()} says precisely why. */
public class TransportException extends MigrationException {
    private static final long serialVersionUID = 1L;

    public enum Reason {
        HOST_UNREACHABLE(true),
        AUTH_REFUSED(false),
        HOST_KEY_UNKNOWN(false),
        HOST_KEY_MISMATCH(false),
        DISK_FULL(false),
        CHECKSUM_MISMATCH(false),
        CANCELLED(false),
        INVALID_NAME(false),
        PROGRAM_TOO_OLD(false),
        IO(true);

        private final boolean transientFailure;

        Reason(boolean transientFailure) {
            this.transientFailure = transientFailure;
        }

        /** True when retrying the same transfer may succeed. */
        public boolean isTransient() {
            return transientFailure;
        }
    }

    private final Reason reason;

    public TransportException(Reason reason, String message) {
        super(reason + ": " + message);
        this.reason = reason;
    }

    public TransportException(Reason reason, String message, Throwable cause) {
        super(reason + ": " + message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    @Override
    public Kind kind() {
        return reason.isTransient() ? Kind.UNAVAILABLE : Kind.FAILED;
    }
}
