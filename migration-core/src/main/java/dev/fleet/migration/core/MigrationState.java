package dev.fleet.migration.core;

/**
 * The seven states of a migration. A state means "this step's work is in progress"; the tick
 * starts it, polls it, and moves on once it has finished and been verified.
 *
 * <ul>
 *   <li>{@link #PENDING}: recorded; nothing has happened on disk. The tick runs the preflight
 *       and waits here while a node is at its concurrency limit.</li>
 *   <li>{@link #SNAPSHOTTING}: the source writes the image and every named volume into
 *       {@code <archive-dir>/<migration-id>.tar}, atomically on a CoW pool; the app keeps
 *       serving.</li>
 *   <li>{@link #TRANSFERRING}: the source pushes the archive to the target (rsync, scp or a
 *       shared directory); the target verifies its sha256.</li>
 *   <li>{@link #RESTORING}: the target verifies and unpacks the archive and creates the
 *       containers stopped, labelled with the migration id and epoch.</li>
 *   <li>{@link #CUTOVER}: the source stops (restart policy {@code no}), the final delta
 *       travels, the target starts and passes its health gate, the route repoints
 *       atomically, and the stopped source is renamed out of the way.</li>
 *   <li>{@link #DONE}: terminal success; the source's volumes and archive are kept.</li>
 *   <li>{@link #FAILED}: terminal; reached from any other non-terminal state by an abort or a
 *       node's failure, after compensation put both nodes back as they were.</li>
 * </ul>
 */
public enum MigrationState {
    PENDING,
    SNAPSHOTTING,
    TRANSFERRING,
    RESTORING,
    CUTOVER,
    DONE,
    FAILED;

    /** DONE and FAILED absorb: no edge leaves them. */
    public boolean isTerminal() {
        return this == DONE || this == FAILED;
    }

    public boolean isActive() {
        return !isTerminal();
    }

    /** The next state on the success path, or null for a terminal state. */
    public MigrationState next() {
        return switch (this) {
            case PENDING -> SNAPSHOTTING;
            case SNAPSHOTTING -> TRANSFERRING;
            case TRANSFERRING -> RESTORING;
            case RESTORING -> CUTOVER;
            case CUTOVER -> DONE;
            case DONE, FAILED -> null;
        };
    }

    /** The lower-case name the seed and the API use ({@code snapshotting}). */
    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static MigrationState fromWireName(String name) {
        for (MigrationState s : values()) {
            if (s.wireName().equals(name) || s.name().equals(name)) {
                return s;
            }
        }
        throw new InvalidInputException("state", name, "must be one of pending, snapshotting,"
                + " transferring, restoring, cutover, done, failed");
    }
}
