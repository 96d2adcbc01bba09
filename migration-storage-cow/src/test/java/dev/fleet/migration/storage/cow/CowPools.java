package dev.fleet.migration.storage.cow;

import static org.junit.jupiter.api.Assertions.fail;

import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.storage.cow.internal.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The real pools the ITs run on, as scripts/ci/services/pools.sh describes them in pools.env. A
 * missing variable fails the test (never skips it) and says how to get the pools.
 */
public final class CowPools {
    static final NodeId NODE = NodeId.of("cow-it");
    /** What the tests made on the shared pools, dropped by {@link #dropRuns()}: btrfs paths and datasets. */
    private static final List<Path> BTRFS_MADE = new java.util.concurrent.CopyOnWriteArrayList<>();
    private static final List<String> ZFS_MADE = new java.util.concurrent.CopyOnWriteArrayList<>();

    private CowPools() {}

    public static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            fail("environment variable " + name + " is not set. The CoW ITs run on real pools: run scripts/test.sh, "
                    + "or as root: bash scripts/ci/services/pools.sh up /tmp/fleet-test && source /tmp/fleet-test/pools.env");
        }
        return v;
    }

    /** A directory on the test btrfs where subvolumes may be made. */
    public static Path btrfsRoot() {
        return existingDir("FLEET_TEST_BTRFS_ROOT");
    }

    /** The btrfs mount (for listing every subvolume on it). */
    public static Path btrfsMount() {
        return existingDir("FLEET_TEST_BTRFS_MOUNT");
    }

    /** A dataset under which the tests may make children. */
    public static String zfsParent() {
        return env("FLEET_TEST_ZFS_POOL");
    }

    /** Where {@link #zfsParent()} is mounted. */
    public static Path zfsMountpoint() {
        return existingDir("FLEET_TEST_ZFS_MOUNTPOINT");
    }

    private static Path existingDir(String var) {
        Path p = Path.of(env(var));
        if (!Files.isDirectory(p)) {
            fail(var + "=" + p + " is not a directory: are the pools up? (scripts/ci/services/pools.sh up STATE_DIR)");
        }
        return p;
    }

    public static String runId(String prefix) {
        return prefix + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);
    }

    /** A fresh plain directory for one test class on the btrfs. */
    public static Path btrfsRunDir(String prefix) {
        try {
            Path dir = Files.createDirectories(btrfsRoot().resolve(runId(prefix)));
            BTRFS_MADE.add(dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path btrfsSubvolume(Path at) {
        run("btrfs", "subvolume", "create", "--", at.toString());
        return at;
    }

    /** A fresh dataset for one test class; returns its name (mounted at zfsMountpoint()/name's leaf). */
    public static String zfsRunDataset(String prefix) {
        String ds = zfsParent() + "/" + runId(prefix);
        run("zfs", "create", "--", ds);
        ZFS_MADE.add(ds);
        return ds;
    }

    /** A subvolume right under the btrfs root (not in a run directory), dropped by {@link #dropRuns()}. */
    public static Path btrfsSubvolumeAtRoot(String name) {
        Path p = btrfsSubvolume(btrfsRoot().resolve(name));
        BTRFS_MADE.add(p);
        return p;
    }

    /** A dataset right under the test parent dataset, dropped by {@link #dropRuns()}. */
    public static String zfsDatasetAtRoot(String name) {
        String ds = zfsParent() + "/" + name;
        run("zfs", "create", "--", ds);
        ZFS_MADE.add(ds);
        return ds;
    }

    /**
     * Drops everything the tests made on the shared pools: each dataset with its snapshots and the
     * clones of them (retrying while zfs-fuse calls it busy), and each btrfs run directory with
     * every subvolume in it, deepest first. Called once a test class is done.
     */
    public static void dropRuns() throws InterruptedException {
        for (String ds : ZFS_MADE) {
            for (int i = 0; ; i++) {
                Command.Result r = Command.of(NODE, "test", List.of("zfs", "destroy", "-R", "--", ds)).result();
                if (r.ok() || r.stderr().contains("does not exist")) {
                    break;
                }
                if (i > 30) {
                    fail("could not drop dataset " + ds + ": " + r.stderr());
                }
                Thread.sleep(200);
            }
            ZFS_MADE.remove(ds);
        }
        String prefix = btrfsMount().toString() + "/";
        for (Path dir : BTRFS_MADE) {
            List<Path> subvolumes = run("btrfs", "subvolume", "list", "-a", "--", btrfsMount().toString()).lines()
                    .map(l -> l.replaceAll("^.* path (<FS_TREE>/)?", ""))
                    .map(rel -> Path.of(prefix + rel))
                    .filter(p -> p.startsWith(dir))
                    .sorted((x, y) -> y.getNameCount() - x.getNameCount())
                    .toList();
            for (Path sub : subvolumes) {
                run("btrfs", "subvolume", "delete", "--", sub.toString());
            }
            if (Files.exists(dir)) {
                try (var walk = Files.walk(dir)) {
                    for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            BTRFS_MADE.remove(dir);
        }
    }

    public static Path zfsMountpointOf(String dataset) {
        return zfsMountpoint().resolve(dataset.substring(zfsParent().length() + 1));
    }

    public static String run(String... argv) {
        return Command.of(NODE, "test", List.of(argv)).run();
    }

    /** Every subvolume on the test btrfs, or every dataset and snapshot in the test pool. */
    public static String btrfsInventory() {
        return run("btrfs", "subvolume", "list", "-a", "--", btrfsMount().toString())
                .lines().map(l -> l.replaceAll("^ID \\d+ gen \\d+ ", "")).sorted().reduce("", (a, b) -> a + b + "\n");
    }

    public static String zfsInventory() {
        String pool = zfsParent().split("/")[0];
        return run("zfs", "list", "-H", "-o", "name", "-t", "all", "-r", "--", pool)
                .lines().sorted().reduce("", (a, b) -> a + b + "\n");
    }
}
