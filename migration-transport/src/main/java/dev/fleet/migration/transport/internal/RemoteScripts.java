package dev.fleet.migration.transport.internal;

import dev.fleet.migration.core.spi.TransferRequest;

/** The remote steps both SSH transports share, as quoted commands. */
public final class RemoteScripts {
    /**
     * Run by the target's shell in place of {@code rsync --server}, through rsync's
     * {@code --rsync-path}, so the checks cost no session of their own. Positional parameters:
     * the target directory, the bytes needed, the lowest rsync release accepted, then rsync's own
     * server arguments. It creates the directory, refuses an rsync older than the minimum and a
     * file system with less free space than needed, each with a {@code fleet-preflight:} line on
     * stderr (stdout is rsync's protocol), and only then becomes the rsync server. Fixed text:
     * no value is ever part of the script.
     */
    static final String RSYNC_PREFLIGHT = "d=$1; need=$2; min=$3; shift 3; "
            + "mkdir -p -- \"$d\" || { echo \"fleet-preflight: mkdir-failed\" >&2; exit 1; }; "
            + "v=$(rsync --version 2>/dev/null | head -n 1); "
            + "r=$(printf '%s\\n' \"$v\" | awk -v min=\"$min\" 'BEGIN { split(min, w, \".\") } "
            + "{ if (match($0, /version v?[0-9]+\\.[0-9]+(\\.[0-9]+)?/)) { s = substr($0, RSTART, RLENGTH); "
            + "sub(/^version v?/, \"\", s); split(s, h, \".\"); "
            + "if (h[1] + 0 != w[1] + 0) ok = h[1] + 0 > w[1] + 0; "
            + "else if (h[2] + 0 != w[2] + 0) ok = h[2] + 0 > w[2] + 0; else ok = h[3] + 0 >= w[3] + 0; "
            + "print (ok ? \"ok \" : \"old \") s; exit } } END { if (NR == 0) print \"unknown\" }'); "
            + "case $r in ok*) ;; old*) echo \"fleet-preflight: rsync-too-old ${r#old }\" >&2; exit 1;; "
            + "*) echo \"fleet-preflight: rsync-unknown $v\" >&2; exit 1;; esac; "
            + "free=$(df -P -B1 -- \"$d\" | awk 'NR == 2 { print $4 }'); "
            + "case $free in ''|*[!0-9]*) ;; *) if [ \"$free\" -lt \"$need\" ]; then "
            + "echo \"fleet-preflight: disk-full $free\" >&2; exit 1; fi;; esac; "
            + "exec rsync \"$@\"";

    private RemoteScripts() {}

    /** The {@code --rsync-path} value that runs {@link #RSYNC_PREFLIGHT} before the rsync server. */
    public static String rsyncPreflight(String directory, long needed, RsyncVersion minimum) {
        return RemoteCommand.of("sh", "-c", RSYNC_PREFLIGHT, "fleet-preflight", directory, String.valueOf(needed),
                minimum.toString()).render();
    }

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
