package dev.fleet.migration.docker.archive;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.fleet.migration.core.Names;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The last entry of every archive, {@code index.json}: what is known only once everything before
 * it was written. Each entry's name, size and number of chunks, in archive order; for a delta,
 * per volume, the paths deleted since the change fence; and {@code bodySha256}, the sha256 of
 * every byte of the archive before this entry's data (its tar header included), so an archive
 * checks itself in one pass even when the reader does not know the whole file's sha256.
 *
 * @param entries    every entry after the manifest, in order
 * @param deletions  per volume, the paths deleted since the fence (deltas only)
 * @param bodySha256 the sha256 of the archive's bytes before this entry's data
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ArchiveIndex(List<Entry> entries, Map<String, List<String>> deletions, String bodySha256) {
    /** The most a reader accepts: the index is read into memory. */
    static final int MAX_SIZE = 8 * 1024 * 1024;
    /** Stands for the body's sha256 while the index's length is computed; as long as a sha256. */
    private static final String PLACEHOLDER = "#".repeat(64);

    public ArchiveIndex {
        entries = entries == null ? List.of() : List.copyOf(entries);
        deletions = deletions == null ? Map.of() : Map.copyOf(deletions);
    }

    /** One entry: its name, its size in bytes, and how many chunks carried it. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Entry(String name, long size, long chunks) {}

    /** The JSON with a placeholder instead of the body's sha256; {@link #fill} swaps it in, same length. */
    static byte[] template(List<Entry> entries, Map<String, List<String>> deletions) {
        try {
            return Manifest.JSON.writeValueAsBytes(new ArchiveIndex(entries, deletions, PLACEHOLDER));
        } catch (IOException e) {
            throw new ArchiveException("could not write the index: " + e.getMessage(), e);
        }
    }

    static byte[] fill(byte[] template, String bodySha256) {
        String json = new String(template, StandardCharsets.UTF_8);
        byte[] out = json.replace(PLACEHOLDER, bodySha256).getBytes(StandardCharsets.UTF_8);
        if (out.length != template.length) {
            throw new IllegalStateException("the index changed length when its sha256 was filled in");
        }
        return out;
    }

    /** Parses and checks an index read from an archive against the manifest it follows. */
    static ArchiveIndex parse(byte[] json, Manifest manifest) {
        ArchiveIndex index;
        try {
            index = Manifest.JSON.readValue(json, ArchiveIndex.class);
        } catch (IOException e) {
            throw new ArchiveException("refused the archive: index.json is not valid JSON (" + e.getMessage() + ")", e);
        }
        if (index == null) {
            throw new ArchiveException("refused the archive: index.json is empty");
        }
        Names.require("index.bodySha256", index.bodySha256, Names.SHA256, 64);
        Set<String> volumes = new HashSet<>();
        manifest.volumes().forEach(v -> volumes.add(v.name()));
        for (var d : index.deletions.entrySet()) {
            if (!volumes.contains(d.getKey())) {
                throw new ArchiveException("refused the archive: deletions name the undeclared volume "
                        + Names.quote(d.getKey()));
            }
            if (!Manifest.KIND_DELTA.equals(manifest.kind())) {
                throw new ArchiveException("refused the archive: a snapshot lists deletions");
            }
        }
        return index;
    }
}
