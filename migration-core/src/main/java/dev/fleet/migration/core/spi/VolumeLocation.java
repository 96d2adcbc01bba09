package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.Names;
import java.nio.file.Path;
import java.util.Objects;

/** A named volume and the directory its data lives in on this node. */
public record VolumeLocation(String volume, Path mountpoint) {
    public VolumeLocation {
        Names.require("volume", volume, Names.DOCKER_NAME, Names.DOCKER_NAME_MAX);
        Objects.requireNonNull(mountpoint, "mountpoint");
        if (!mountpoint.isAbsolute()) {
            throw new dev.fleet.migration.core.InvalidInputException("mountpoint", mountpoint.toString(),
                    "must be an absolute path");
        }
    }
}
