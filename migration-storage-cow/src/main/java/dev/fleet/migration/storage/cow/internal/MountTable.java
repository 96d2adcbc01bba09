package dev.fleet.migration.storage.cow.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * This process's view of the mount table ({@code /proc/self/mountinfo}). Bind mounts show up
 * with their root inside the source filesystem, which is how a Docker {@code local} volume bound
 * to a dataset path is recognised.
 */
public final class MountTable {
    /** One line of mountinfo: where it is mounted, what part of the source, the type and source. */
    public record Mount(Path mountPoint, String root, String fsType, String source, java.util.List<String> options) {
        /** True when the kernel mounted it read-only (the per-mount "ro" flag). */
        public boolean readOnly() {
            return options.contains("ro");
        }
    }

    private final List<Mount> mounts;

    public MountTable(List<Mount> mounts) {
        this.mounts = List.copyOf(mounts);
    }

    public static MountTable current() {
        try {
            return parse(Files.readAllLines(Path.of("/proc/self/mountinfo")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses mountinfo lines (see proc(5)); octal escapes such as {@code \040} are decoded. */
    public static MountTable parse(List<String> lines) {
        List<Mount> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.split(" ");
            int dash = -1;
            for (int i = 6; i < f.length; i++) {
                if (f[i].equals("-")) {
                    dash = i;
                    break;
                }
            }
            if (f.length < 6 || dash < 0 || dash + 2 >= f.length) {
                continue;
            }
            out.add(new Mount(Path.of(unescape(f[4])), unescape(f[3]), unescape(f[dash + 1]), unescape(f[dash + 2]),
                    List.of(f[5].split(","))));
        }
        return new MountTable(out);
    }

    /** The mount whose mount point is exactly {@code path} (the last one wins, as the kernel does). */
    public Optional<Mount> at(Path path) {
        Mount found = null;
        for (Mount m : mounts) {
            if (m.mountPoint().equals(path)) {
                found = m;
            }
        }
        return Optional.ofNullable(found);
    }

    /** The mount that holds {@code path}: the longest mount point that is a prefix of it. */
    public Optional<Mount> holding(Path path) {
        Mount found = null;
        for (Mount m : mounts) {
            if (path.startsWith(m.mountPoint())
                    && (found == null || m.mountPoint().getNameCount() >= found.mountPoint().getNameCount())) {
                found = m;
            }
        }
        return Optional.ofNullable(found);
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
