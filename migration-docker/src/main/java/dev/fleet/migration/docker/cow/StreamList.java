package dev.fleet.migration.docker.cow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.Names;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.storage.cow.PoolKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code <migration>.cow-full.json} / {@code .cow-delta.json}: the native streams that travel
 * beside the archive or the final delta, each with its volume, pool kind, size and sha256. The
 * target reads nothing but these names: a stream's file name is derived, never taken from the list.
 */
record StreamList(List<Stream> streams) {
    record Stream(MigrationId migration, String volume, String phase, PoolKind kind, long size, String sha256) {
        Stream {
            Names.require("volume", volume, Names.DOCKER_NAME, Names.DOCKER_NAME_MAX);
            if (!sha256.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("sha256 must be 64 hex digits, but was '" + sha256 + "'");
            }
        }
    }

    StreamList {
        streams = List.copyOf(streams);
    }

    Optional<Stream> find(String volume) {
        return streams.stream().filter(s -> s.volume().equals(volume)).findFirst();
    }

    /** The list of {@code phase} for {@code m}; empty when none came (no volume travels natively). */
    static StreamList read(CowStorage storage, MigrationId m, String phase) {
        Path file = storage.listFile(m, phase);
        if (!Files.isRegularFile(file)) {
            return new StreamList(List.of());
        }
        try {
            if (Files.size(file) > 1 << 20) {
                throw new IOException("over 1 MiB");
            }
            JsonNode root = CowStorage.JSON.readTree(file.toFile());
            if (!m.value().equals(root.path("migration").asText()) || !phase.equals(root.path("phase").asText())) {
                throw new IOException("it belongs to " + root.path("migration").asText() + " "
                        + root.path("phase").asText());
            }
            List<Stream> out = new ArrayList<>();
            for (JsonNode s : root.path("streams")) {
                out.add(new Stream(m, s.path("volume").asText(), phase, PoolKind.of(s.path("kind").asText()),
                        s.path("size").asLong(), s.path("sha256").asText()));
            }
            return new StreamList(out);
        } catch (IOException | RuntimeException e) {
            throw new NodeOperationException(storage.node, "restore", "the list of native streams " + file.getFileName()
                    + " is not valid: " + e.getMessage(), e);
        }
    }

    /** Writes the list under a temp name and renames it; returns the file. */
    Path write(CowStorage storage, MigrationId m, String phase) throws IOException {
        ObjectNode root = CowStorage.JSON.createObjectNode().put("migration", m.value()).put("phase", phase);
        ArrayNode list = root.putArray("streams");
        for (Stream s : streams) {
            list.addObject().put("volume", s.volume()).put("kind", s.kind().wireName()).put("size", s.size())
                    .put("sha256", s.sha256());
        }
        Path file = storage.listFile(m, phase);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, CowStorage.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }
}
