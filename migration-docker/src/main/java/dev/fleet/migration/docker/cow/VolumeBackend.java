package dev.fleet.migration.docker.cow;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fleet.migration.storage.cow.PoolKind;
import dev.fleet.migration.storage.cow.PoolSnapshotter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where one named volume's data lives on this node, and whether a pool can snapshot it.
 *
 * <p>Detection, in order: the data path is the {@code device} option of a {@code local} volume
 * created with {@code --opt type=none --opt o=bind --opt device=PATH} (its {@code _data}
 * directory is only a mount target, empty while no container runs), else the volume's
 * {@code Mountpoint}. Then each pool snapshotter is asked for the subvolume or dataset holding
 * that path ({@link PoolSnapshotter#holderOf}): a btrfs subvolume found by device number and
 * inode 256, so a daemon whose data root is on btrfs works (the {@code _data} directory inside a
 * subvolume); a ZFS dataset from {@code /proc/self/mountinfo}. Anything else (ext4, overlay, a
 * dataset name outside the allow-list) is not on a pool and keeps the live copy behind a fence.
 *
 * @param volume   the volume's name
 * @param dataPath the real directory holding its tree
 * @param kind     the pool kind, when on a pool
 * @param holder   the subvolume root or dataset mountpoint holding {@code dataPath}, when on a pool
 * @param relative {@code dataPath} inside {@code holder} ({@code ""} when it is the whole of it)
 * @param reason   in words: what was found, for preflight facts and logs
 */
public record VolumeBackend(String volume, Path dataPath, Optional<PoolKind> kind, Optional<Path> holder,
                            String relative, String reason) {
    public VolumeBackend {
        Objects.requireNonNull(volume, "volume");
        Objects.requireNonNull(dataPath, "dataPath");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(relative, "relative");
        Objects.requireNonNull(reason, "reason");
    }

    /** True when a pool snapshotter can take an atomic snapshot of what holds the volume. */
    public boolean onPool() {
        return kind.isPresent();
    }

    /** True when the volume is a whole subvolume or dataset, so a native stream carries exactly it. */
    public boolean whole() {
        return onPool() && relative.isEmpty();
    }

    /**
     * The directory a {@code local} volume's data really lives in: the {@code device} of a bind
     * volume, else its {@code Mountpoint}.
     */
    public static Path dataPath(JsonNode inspect) {
        JsonNode opts = inspect.path("Options");
        String device = opts.path("device").asText("");
        String type = opts.path("type").asText("");
        List<String> o = Arrays.asList(opts.path("o").asText("").split(","));
        if (!device.isEmpty() && device.startsWith("/") && "none".equals(type)
                && (o.contains("bind") || o.contains("rbind"))) {
            return Path.of(device).normalize();
        }
        return Path.of(inspect.path("Mountpoint").asText());
    }

    /** Finds where the volume {@code inspect} lives; never throws for an unusual volume, it falls back. */
    public static VolumeBackend detect(JsonNode inspect, List<PoolSnapshotter> snapshotters) {
        String name = inspect.path("Name").asText();
        if (!"local".equals(inspect.path("Driver").asText())) {
            return new VolumeBackend(name, Path.of("/"), Optional.empty(), Optional.empty(), "",
                    "driver " + inspect.path("Driver").asText() + ", not local");
        }
        Path data = dataPath(inspect);
        Path real;
        String fs;
        try {
            real = data.toRealPath();
            fs = Files.getFileStore(real).type();
        } catch (IOException | RuntimeException e) {
            return new VolumeBackend(name, data, Optional.empty(), Optional.empty(), "",
                    "data path " + data + " is not readable (" + e.getMessage() + "): live copy");
        }
        for (PoolSnapshotter s : snapshotters) {
            Optional<Path> holder = s.holderOf(real);
            if (holder.isPresent()) {
                String rel = holder.get().relativize(real).toString();
                String what = (s.kind() == PoolKind.BTRFS ? "btrfs subvolume " : "ZFS dataset at ") + holder.get();
                return new VolumeBackend(name, real, Optional.of(s.kind()), holder, rel,
                        rel.isEmpty() ? what : "directory " + rel + " in " + what);
            }
        }
        return new VolumeBackend(name, real, Optional.empty(), Optional.empty(), "",
                "directory " + real + " on " + fs + ", not on a btrfs subvolume or ZFS dataset: live copy");
    }
}
