package dev.fleet.migration.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a restored container may ask of its host. The archive's {@code HostConfig} comes from the
 * source's {@code docker inspect}, but an archive is input: a hostile one could ask the target
 * for privileged mode, extra capabilities, host devices, host namespaces or host paths. Those
 * are refused (on the source by preflight, so such an app fails before anything moves, and on
 * the target before anything is created), and the paths the engine masks by default are left to
 * the engine.
 */
final class HostConfigPolicy {
    /**
     * Namespaces a container may not share with the host or another container. Not CgroupnsMode:
     * "host" is the engine's default on cgroup v1 hosts, and the cgroup namespace grants nothing.
     */
    private static final Set<String> NAMESPACE_MODES = Set.of("PidMode", "IpcMode", "UTSMode", "UsernsMode");
    private static final Set<String> UNCONFINED = Set.of("seccomp=unconfined", "seccomp:unconfined",
            "apparmor=unconfined", "apparmor:unconfined", "label=disable", "label:disable",
            "systempaths=unconfined");

    private HostConfigPolicy() {}

    /** Why this container's host config cannot be migrated (privileges and mounts); empty when it can. */
    static List<String> problems(String container, JsonNode hostConfig) {
        List<String> problems = privileges(container, hostConfig);
        problems.addAll(mounts(container, hostConfig));
        return problems;
    }

    /** What the container asks of its host beyond its mounts that is not migrated. */
    static List<String> privileges(String container, JsonNode hostConfig) {
        List<String> problems = new ArrayList<>();
        String at = "container '" + container + "': ";
        if (hostConfig.path("Privileged").asBoolean(false)) {
            problems.add(at + "privileged mode is not migrated");
        }
        nonEmpty(hostConfig, "CapAdd").ifPresent(v -> problems.add(at + "added capabilities " + v + " are not migrated"));
        nonEmpty(hostConfig, "Devices").ifPresent(v -> problems.add(at + "host devices are not migrated"));
        nonEmpty(hostConfig, "DeviceRequests").ifPresent(v -> problems.add(at + "device requests are not migrated"));
        nonEmpty(hostConfig, "DeviceCgroupRules").ifPresent(v -> problems.add(at
                + "device cgroup rules are not migrated"));
        nonEmpty(hostConfig, "VolumesFrom").ifPresent(v -> problems.add(at + "volumes-from is not migrated"));
        for (String mode : NAMESPACE_MODES) {
            String v = hostConfig.path(mode).asText("");
            if (v.equals("host") || v.startsWith("container:")) {
                problems.add(at + mode + " '" + v + "' (another namespace) is not migrated");
            }
        }
        String network = hostConfig.path("NetworkMode").asText("");
        if (network.startsWith("container:")) {
            problems.add(at + "NetworkMode '" + network + "' (another container's network) is not migrated");
        }
        if (!hostConfig.path("CgroupParent").asText("").isEmpty()) {
            problems.add(at + "a cgroup parent is not migrated");
        }
        for (JsonNode opt : hostConfig.path("SecurityOpt")) {
            if (UNCONFINED.contains(opt.asText().toLowerCase(Locale.ROOT).replace(" ", ""))) {
                problems.add(at + "security option '" + opt.asText() + "' is not migrated");
            }
        }
        return problems;
    }

    /** Mounts other than named volumes and tmpfs: host paths are never recreated on another node. */
    static List<String> mounts(String container, JsonNode hostConfig) {
        List<String> problems = new ArrayList<>();
        String at = "container '" + container + "': ";
        for (JsonNode bind : hostConfig.path("Binds")) {
            String source = bind.asText().split(":", 2)[0];
            if (source.startsWith("/") || source.startsWith(".") || source.isEmpty()) {
                problems.add(at + "host bind mount '" + bind.asText() + "' is not migrated: only named volumes are");
            }
        }
        for (JsonNode mount : hostConfig.path("Mounts")) {
            String type = mount.path("Type").asText("");
            if (!type.equals("volume") && !type.equals("tmpfs")) {
                problems.add(at + "a mount of type '" + type + "' onto " + mount.path("Target").asText()
                        + " is not migrated: only named volumes and tmpfs are");
            }
        }
        return problems;
    }

    /** The host config to create the container with: as given, minus what the engine should decide. */
    static ObjectNode forCreate(JsonNode hostConfig) {
        ObjectNode copy = hostConfig.isObject() ? ((ObjectNode) hostConfig).deepCopy()
                : com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        copy.remove("MaskedPaths"); // the engine's defaults, never a list an archive chose
        copy.remove("ReadonlyPaths");
        return copy;
    }

    private static java.util.Optional<String> nonEmpty(JsonNode hostConfig, String field) {
        JsonNode v = hostConfig.path(field);
        return v.isArray() && v.size() > 0 ? java.util.Optional.of(v.toString()) : java.util.Optional.empty();
    }
}
