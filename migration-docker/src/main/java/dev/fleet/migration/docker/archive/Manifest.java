package dev.fleet.migration.docker.archive;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.fleet.migration.core.Names;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The first entry of every archive, {@code manifest.json}: what the archive holds and how to
 * check it. {@code kind} is {@code snapshot} for the full archive and {@code delta} for the final
 * delta, which also lists, per volume, the paths deleted since the change fence.
 *
 * @param formatVersion {@link #FORMAT_VERSION}
 * @param kind          {@code snapshot} or {@code delta}
 * @param migration     the migration id
 * @param app           the app id ({@code web} or {@code compose:shop})
 * @param containers    each container's name, the image that holds its filesystem, and its full
 *                      {@code docker inspect} as the source engine returned it
 * @param volumes       each named volume: name, driver, labels, and the entry holding its tree
 * @param entries       every entry after the manifest, in order, with size and sha256
 * @param deletions     per volume, the paths deleted since the fence (deltas only)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Manifest(int formatVersion, String kind, String migration, String app, List<ContainerSpec> containers,
                       List<VolumeSpec> volumes, List<Entry> entries, Map<String, List<String>> deletions) {
    public static final int FORMAT_VERSION = 1;
    public static final String NAME = "manifest.json";
    public static final String IMAGE_ENTRY = "image.tar";
    public static final String KIND_SNAPSHOT = "snapshot";
    public static final String KIND_DELTA = "delta";
    static final Pattern VOLUME_ENTRY = Pattern.compile("volumes/([a-zA-Z0-9][a-zA-Z0-9_.-]*)\\.tar");
    static final Pattern ROOTFS_ENTRY = Pattern.compile("rootfs/([a-zA-Z0-9][a-zA-Z0-9_.-]*)\\.tar");

    /** The shared JSON mapper of this module. */
    public static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(SerializationFeature.FAIL_ON_EMPTY_BEANS, false);

    public Manifest {
        containers = containers == null ? List.of() : List.copyOf(containers);
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
        entries = entries == null ? List.of() : List.copyOf(entries);
        deletions = deletions == null ? Map.of() : Map.copyOf(deletions);
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ContainerSpec(String name, String image, JsonNode inspect) {
        public ContainerSpec {
            Objects.requireNonNull(inspect, "inspect");
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record VolumeSpec(String name, String driver, Map<String, String> labels) {
        public VolumeSpec {
            labels = labels == null ? Map.of() : Map.copyOf(labels);
        }

        public String entry() {
            return entryFor(name);
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Entry(String name, long size, String sha256) {}

    public static String entryFor(String volume) {
        return "volumes/" + volume + ".tar";
    }

    public Manifest withEntries(List<Entry> newEntries) {
        return new Manifest(formatVersion, kind, migration, app, containers, volumes, newEntries, deletions);
    }

    public byte[] toJson() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
        } catch (IOException e) {
            throw new ArchiveException("could not write the manifest: " + e.getMessage(), e);
        }
    }

    /**
     * Parses and checks a manifest read from an archive: known version and kind, valid names,
     * entries that are only {@code image.tar} and one {@code volumes/<name>.tar} per declared
     * volume, each once, with a size and a sha256.
     */
    public static Manifest parse(byte[] json) {
        Manifest m;
        try {
            m = JSON.readValue(json, Manifest.class);
        } catch (IOException e) {
            throw new ArchiveException("refused the archive: manifest.json is not valid JSON (" + e.getMessage() + ")", e);
        }
        if (m.formatVersion != FORMAT_VERSION) {
            throw new ArchiveException("refused the archive: manifest format version " + m.formatVersion
                    + " is not supported (this node reads version " + FORMAT_VERSION + ")");
        }
        if (!KIND_SNAPSHOT.equals(m.kind) && !KIND_DELTA.equals(m.kind)) {
            throw new ArchiveException("refused the archive: manifest kind " + Names.quote(m.kind) + " is unknown");
        }
        Names.require("manifest.migration", m.migration, Names.MIGRATION_ID, 64);
        Set<String> volumes = new HashSet<>();
        for (VolumeSpec v : m.volumes) {
            Names.require("manifest.volume", v.name(), Names.DOCKER_NAME, Names.DOCKER_NAME_MAX);
            if (!volumes.add(v.name())) {
                throw new ArchiveException("refused the archive: volume " + Names.quote(v.name()) + " is listed twice");
            }
        }
        for (ContainerSpec c : m.containers) {
            Names.require("manifest.container", c.name(), Names.DOCKER_NAME, Names.DOCKER_NAME_MAX);
        }
        Set<String> seen = new HashSet<>();
        for (Entry e : m.entries) {
            if (e.name() == null || !seen.add(e.name())) {
                throw new ArchiveException("refused the archive: entry " + Names.quote(e.name())
                        + " is missing a name or is listed twice");
            }
            var vm = VOLUME_ENTRY.matcher(e.name());
            var rm = ROOTFS_ENTRY.matcher(e.name());
            boolean ok = e.name().equals(IMAGE_ENTRY) || (vm.matches() && volumes.contains(vm.group(1)))
                    || (rm.matches() && m.containers.stream().anyMatch(c -> c.name().equals(rm.group(1))));
            if (!ok) {
                throw new ArchiveException("refused the archive: entry " + Names.quote(e.name())
                        + " is neither image.tar nor volumes/<declared volume>.tar nor rootfs/<declared container>.tar");
            }
            if (e.size() < 0) {
                throw new ArchiveException("refused the archive: entry " + Names.quote(e.name()) + " has a negative size");
            }
            Names.require("manifest.entry.sha256", e.sha256(), Names.SHA256, 64);
        }
        for (String v : m.deletions.keySet()) {
            if (!volumes.contains(v)) {
                throw new ArchiveException("refused the archive: deletions name the undeclared volume " + Names.quote(v));
            }
        }
        return m;
    }

    public static String rootfsEntryFor(String container) {
        return "rootfs/" + container + ".tar";
    }

    /** The container whose exported filesystem an entry holds, or null. */
    static String rootfsOf(String entryName) {
        var rm = ROOTFS_ENTRY.matcher(entryName);
        return rm.matches() ? rm.group(1) : null;
    }

    /** The volume an entry belongs to, or null for the image entry. */
    static String volumeOf(String entryName) {
        var vm = VOLUME_ENTRY.matcher(entryName);
        return vm.matches() ? vm.group(1) : null;
    }
}
