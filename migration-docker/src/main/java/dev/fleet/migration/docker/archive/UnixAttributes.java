package dev.fleet.migration.docker.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;

/** The numeric attributes of one path, read without following a symlink. */
record UnixAttributes(int mode, int uid, int gid, long dev, long ino, int nlink, long size, FileTime mtime,
                      FileTime ctime) {
    static final int S_IFMT = 0170000;
    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int S_IFLNK = 0120000;
    static final int S_ISUID = 04000;
    static final int S_ISGID = 02000;

    static UnixAttributes of(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,dev,ino,nlink,size,lastModifiedTime,ctime",
                LinkOption.NOFOLLOW_LINKS);
        return new UnixAttributes((Integer) a.get("mode"), (Integer) a.get("uid"), (Integer) a.get("gid"),
                (Long) a.get("dev"), (Long) a.get("ino"), (Integer) a.get("nlink"), (Long) a.get("size"),
                (FileTime) a.get("lastModifiedTime"), (FileTime) a.get("ctime"));
    }

    int type() {
        return mode & S_IFMT;
    }

    boolean isDirectory() {
        return type() == S_IFDIR;
    }

    boolean isRegular() {
        return type() == S_IFREG;
    }

    boolean isSymlink() {
        return type() == S_IFLNK;
    }

    /** Permission bits with setuid, setgid and sticky. */
    int permissions() {
        return mode & 07777;
    }

    /** The later of mtime and ctime: ctime moves on chmod, chown, rename and hardlink too. */
    long changedMillis() {
        return Math.max(mtime.toMillis(), ctime.toMillis());
    }
}
