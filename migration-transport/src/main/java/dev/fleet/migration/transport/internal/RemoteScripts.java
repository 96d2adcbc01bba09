package dev.fleet.migration.transport.internal;

import dev.fleet.migration.core.spi.TransferRequest;

/** The remote steps both SSH transports share, as quoted commands. */
public final class RemoteScripts {
    private RemoteScripts() {}

    /**
     * Moves the verified temp to the final name (a file atomically replaces an earlier one; a
     * directory replaces an earlier one by two renames), then syncs the directory so the rename
     * survives a crash.
     */
    public static RemoteCommand finish(TransferRequest request, String temp, boolean directory) {
        String finalPath = request.remotePath();
        RemoteCommand cmd;
        if (directory) {
            String old = TempNames.join(request.targetDirectory(), TempNames.old(request.name()));
            cmd = RemoteCommand.of("rm", "-rf", "--", old)
                    .and(RemoteCommand.of("test", "!", "-e", finalPath)
                            .or(RemoteCommand.of("mv", "-T", "--", finalPath, old)))
                    .and(RemoteCommand.of("mv", "-T", "--", temp, finalPath))
                    .and(RemoteCommand.of("rm", "-rf", "--", old));
        } else {
            cmd = RemoteCommand.of("mv", "-f", "-T", "--", temp, finalPath);
        }
        return cmd.and(RemoteCommand.of("sync", "--", request.targetDirectory()));
    }
}
