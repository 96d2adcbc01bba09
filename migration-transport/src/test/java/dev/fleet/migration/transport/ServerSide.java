package dev.fleet.migration.transport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Kills, on the server side, the sshd process that serves one TCP connection: it finds the
 * socket's inode in /proc/net/tcp by the connection's ports, then the descendants of the test
 * sshd (and only those) that hold it, and kills them by pid. The programs the session runs
 * (rsync, sftp) are left alone, as when a server's network or sshd dies.
 */
final class ServerSide {
    private ServerSide() {}

    static int killSessionOf(long sshdPid, int sshdPort, int clientPort) {
        Optional<String> inode = inode(sshdPort, clientPort);
        if (inode.isEmpty()) {
            throw new IllegalStateException("no connection 127.0.0.1:" + sshdPort + " <- :" + clientPort
                    + " in /proc/net/tcp");
        }
        String socket = "socket:[" + inode.get() + "]";
        ProcessHandle sshd = ProcessHandle.of(sshdPid).orElseThrow(() -> new IllegalStateException(
                "the test sshd (pid " + sshdPid + ") is not running"));
        int killed = 0;
        for (ProcessHandle p : sshd.descendants().toList()) {
            if (holds(p.pid(), socket)) {
                p.destroyForcibly();
                killed++;
            }
        }
        if (killed == 0) {
            throw new IllegalStateException("no sshd process holds " + socket);
        }
        return killed;
    }

    private static boolean holds(long pid, String socket) {
        try (var fds = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
            return fds.anyMatch(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().equals(socket);
                } catch (IOException e) {
                    return false;
                }
            });
        } catch (IOException e) {
            return false;
        }
    }

    private static Optional<String> inode(int localPort, int remotePort) {
        String local = String.format(Locale.ROOT, "0100007F:%04X", localPort);
        String remote = String.format(Locale.ROOT, "0100007F:%04X", remotePort);
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/net/tcp"));
            for (String line : lines) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[1].equals(local) && f[2].equals(remote)) {
                    return Optional.of(f[9]);
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
