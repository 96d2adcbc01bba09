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
 * The first entry of every archive, {@code manifest.json}: what the archive holds, written before
 * any of it. {@code kind} is {@code snapshot} for the full archive and {@code delta} for the final
 * delta. What is known only once everything is written (each entry's size, the deltas'
 * deletions, the sha256 of the bytes before it) is in the trailer, {@link ArchiveIndex}.
 *
 * @param formatVersion {@link #FORMAT_VERSION}
 * @param kind          {@code snapshot} or {@code delta}
 * @param migration     the migration id
 * @param app           the app id ({@code web} or {@code compose:shop})
 * @param containers    each container's name, the image that holds its filesystem, and its full
 *                      {@code docker inspect} as the source engine returned it
 * @param volumes       each named volume: name, driver, labels; its tree is the entry
 *                      {@code volumes/<name>.tar}
 * @param chunkSize     every entry travels in chunks of this many bytes (the last one may be
 *                      shorter); set by {@link ArchiveWriter}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Manifest(int formatVersion, String kind, String migration, String app, List<ContainerSpec> containers,
                       List<VolumeSpec> volumes, int chunkSize) {
    public static final int FORMAT_VERSION = 2;
    public static final String NAME = "manifest.json";
    public static final String INDEX = "index.json";
    public static final String IMAGE_ENTRY = "image.tar";
    public static final String KIND_SNAPSHOT = "snapshot";
    public static final String KIND_DELTA = "delta";
    /** The largest chunk a reader accepts: a chunk is held in memory while it is written. */
    public static final int MAX_CHUNK = 64 * 1024 * 1024;
    static final Pattern VOLUME_ENTRY = Pattern.compile("volumes/([a-zA-Z0-9][a-zA-Z0-9_.-]*)\\.tar");
    static final Pattern ROOTFS_ENTRY = Pattern.compile("rootfs/([a-zA-Z0-9][a-zA-Z0-9_.-]*)\\.tar");

    /** The shared JSON mapper of this module. */
    public static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(SerializationFeature.FAIL_ON_EMPTY_BEANS, false);

    public Manifest {
        containers = containers == null ? List.of() : List.copyOf(containers);
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
    }

    /** A manifest whose chunk size the writer fills in. */
    public Manifest(int formatVersion, String kind, String migration, String app, List<ContainerSpec> containers,
                    List<VolumeSpec> volumes) {
        this(formatVersion, kind, migration, app, containers, volumes, 0);
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

    public static String entryFor(String volume) {
        return "volumes/" + volume + ".tar";
    }

    public Manifest withChunkSize(int size) {
        return new Manifest(formatVersion, kind, migration, app, containers, volumes, size);
    }

    public byte[] toJson() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(this);
        } catch (IOException e) {
            throw new ArchiveException("could not write the manifest: " + e.getMessage(), e);
        }
    }

    /**
     * Parses and checks a manifest read from an archive: known version and kind, valid and
     * distinct names, a chunk size the reader accepts.
     */
    public static Manifest parse(byte[] json) {
        Manifest m;
        try {
            JsonNode tree = JSON.readTree(json);
            if (tree == null || !tree.isObject()) {
                throw new ArchiveException("refused the archive: manifest.json is not a JSON object");
            }
            int version = tree.path("formatVersion").asInt(-1);
            if (version != FORMAT_VERSION) {
                throw new ArchiveException("refused the archive: manifest format version " + tree.path("formatVersion")
                        + " is not supported (this node reads version " + FORMAT_VERSION + "; an archive of an "
                        + "older version must be snapshotted again)");
            }
            m = JSON.treeToValue(tree, Manifest.class);
        } catch (IOException e) {
            throw new ArchiveException("refused the archive: manifest.json is not valid JSON (" + e.getMessage() + ")", e);
        }
        if (!KIND_SNAPSHOT.equals(m.kind) && !KIND_DELTA.equals(m.kind)) {
            throw new ArchiveException("refused the archive: manifest kind " + Names.quote(m.kind) + " is unknown");
        }
        if (m.chunkSize < 512 || m.chunkSize > MAX_CHUNK || m.chunkSize % 512 != 0) {
            throw new ArchiveException("refused the archive: manifest chunkSize must be a multiple of 512 between 512 and "
                    + MAX_CHUNK + ", but was " + m.chunkSize);
        }
        Names.require("manifest.migration", m.migration, Names.MIGRATION_ID, 64);
        Set<String> volumes = new HashSet<>();
        for (VolumeSpec v : m.volumes) {
            Names.require("manifest.volume", v.name(), Names.DOCKER_NAME, Names.DOCKER_NAME_MAX);
            if (!volumes.add(v.name())) {
                throw new ArchiveException("refused the archive: volume " + Names.quote(v.name()) + " is listed twice");
            }
        }
        Set<String> containers = new HashSet<>();
        for (ContainerSpec c : m.containers) {
            Names.require("manifest.container", c.name(), Names.DOCKER_NAME, Names.DOCKER_NAME_MAX);
            if (!containers.add(c.name())) {
                throw new ArchiveException("refused the archive: container " + Names.quote(c.name())
                        + " is listed twice");
            }
        }
        return m;
    }

    /**
     * Whether an entry name may appear in an archive with this manifest: {@code image.tar},
     * {@code volumes/<declared volume>.tar} or {@code rootfs/<declared container>.tar}.
     */
    boolean allows(String entryName) {
        var vm = VOLUME_ENTRY.matcher(entryName);
        var rm = ROOTFS_ENTRY.matcher(entryName);
        return entryName.equals(IMAGE_ENTRY)
                || (vm.matches() && volumes.stream().anyMatch(v -> v.name().equals(vm.group(1))))
                || (rm.matches() && containers.stream().anyMatch(c -> c.name().equals(rm.group(1))));
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
