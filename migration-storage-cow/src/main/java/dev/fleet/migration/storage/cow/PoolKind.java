package dev.fleet.migration.storage.cow;

import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.NodeId;
import java.time.Clock;
import java.util.Locale;

/** The kinds of copy-on-write pool a volume can live on. */
public enum PoolKind {
    BTRFS,
    ZFS;

    /** {@code btrfs} or {@code zfs}: the snapshotter's {@code name()} and the config's spelling. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The kind named {@code btrfs} or {@code zfs} (any case). */
    public static PoolKind of(String name) {
        for (PoolKind k : values()) {
            if (k.wireName().equalsIgnoreCase(name)) {
                return k;
            }
        }
        throw new InvalidInputException("pool kind", name, "must be btrfs or zfs");
    }

    /** A snapshotter for this kind, spawning the program found on the PATH. */
    public PoolSnapshotter snapshotter(NodeId node, Clock clock) {
        return this == BTRFS ? new BtrfsSnapshotter(node, clock) : new ZfsSnapshotter(node, clock);
    }
}
