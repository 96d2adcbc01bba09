package dev.fleet.migration.core.spi;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a node holds, as far as migrations are concerned: containers with their run state and
 * labels, and volumes with a content fingerprint. Two inventories taken before and after an
 * abort must be equal.
 */
public record NodeInventory(List<Container> containers, List<Volume> volumes) {
    public NodeInventory {
        containers = List.copyOf(containers);
        volumes = List.copyOf(volumes);
    }

    public record Container(String name, boolean running, String restartPolicy, Map<String, String> labels) {
        public Container {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(restartPolicy, "restartPolicy");
            labels = Map.copyOf(labels);
        }
    }

    /** A volume; {@code fingerprint} is a digest of its tree (paths, modes, owners, contents). */
    public record Volume(String name, String fingerprint, Map<String, String> labels) {
        public Volume {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(fingerprint, "fingerprint");
            labels = Map.copyOf(labels);
        }
    }

    /** The running containers whose name is {@code name}. */
    public boolean isRunning(String name) {
        return containers.stream().anyMatch(c -> c.name().equals(name) && c.running());
    }
}
