package dev.fleet.migration.transport.internal;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An rsync release number, read from the first line of {@code rsync --version}. */
public record RsyncVersion(int major, int minor, int patch) implements Comparable<RsyncVersion> {
    /**
     * 3.2.4 is the first release with the fixes for the published path-traversal and
     * file-list flaws of the 3.2 line (CVE-2022-29154 and the arbitrary-file-write class).
     */
    public static final RsyncVersion MINIMUM = new RsyncVersion(3, 2, 4);
    private static final Pattern LINE = Pattern.compile("rsync\\s+version\\s+v?(\\d+)\\.(\\d+)(?:\\.(\\d+))?");

    public static Optional<RsyncVersion> parse(String versionOutput) {
        Matcher m = LINE.matcher(versionOutput);
        if (!m.find()) {
            return Optional.empty();
        }
        return Optional.of(new RsyncVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                m.group(3) == null ? 0 : Integer.parseInt(m.group(3))));
    }

    @Override
    public int compareTo(RsyncVersion o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) {
            c = Integer.compare(minor, o.minor);
        }
        return c != 0 ? c : Integer.compare(patch, o.patch);
    }

    public boolean atLeast(RsyncVersion other) {
        return compareTo(other) >= 0;
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch;
    }
}
