package dev.fleet.migration.docker.archive;

import dev.fleet.migration.core.MigrationException;

/**
 * An archive or a volume tree could not be written, or an archive was refused: a checksum that
 * does not match, a truncated stream, or an entry that would land outside its volume (parent
 * paths, absolute paths, links leaving the volume, devices, FIFOs, setuid bits). A refused
 * archive leaves nothing behind outside its staging directory, and the staging directory is
 * removed.
 */
public class ArchiveException extends MigrationException {
    private static final long serialVersionUID = 1L;

    public ArchiveException(String message) {
        super(message);
    }

    public ArchiveException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public Kind kind() {
        return Kind.FAILED;
    }
}
