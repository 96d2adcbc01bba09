package dev.fleet.migration.docker.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.Progress;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationStatus;
import dev.fleet.migration.docker.archive.ArchiveException;
import dev.fleet.migration.docker.archive.Manifest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The node-local operation journal, {@code journal.jsonl} in the archive directory: one JSON
 * object per line, appended and fsynced before the caller hears the result. Replaying it
 * rebuilds the highest epoch seen per app, every operation's first result, what the source
 * looked like before each migration touched it, and which volumes a retired source keeps.
 *
 * <p>An operation still RUNNING when the journal is replayed was cut off by an agent restart;
 * it is recorded as FAILED so that a retry under the same key does not run half-done work again.
 *
 * <p>Thread-safe: every method is synchronized.
 */
public final class Journal {

    /** An operation as the journal remembers it. */
    public record Entry(OperationKey key, String app, OperationStatus status) {}

    private final Path file;
    private final FileChannel channel;
    private final Map<String, Long> epochs = new HashMap<>();
    private final Map<String, Entry> operations = new LinkedHashMap<>();
    private final Map<String, ObjectNode> sourceStates = new HashMap<>();
    private final Map<String, String> retainedVolumes = new HashMap<>();

    public Journal(Path file) {
        this.file = file;
        try {
            Files.createDirectories(file.getParent());
            if (Files.exists(file)) {
                replay(Files.readAllLines(file, StandardCharsets.UTF_8));
            }
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new ArchiveException("could not open the journal " + file + ": " + e.getMessage(), e);
        }
        for (Entry e : List.copyOf(operations.values())) {
            if (e.status().phase() == OperationStatus.Phase.RUNNING) {
                operation(e.key(), e.app(), OperationStatus.failed(e.key(),
                        "interrupted: the agent stopped while " + e.key() + " ran"));
            }
        }
    }

    public Path file() {
        return file;
    }

    private void replay(List<String> lines) throws IOException {
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n;
            try {
                n = Manifest.JSON.readTree(line);
            } catch (IOException torn) {
                continue; // a line torn by a crash mid-append: its operation was never acknowledged
            }
            switch (n.path("t").asText()) {
                case "epoch" -> epochs.merge(n.get("app").asText(), n.get("epoch").asLong(), Math::max);
                case "op" -> {
                    Entry e = readOp(n);
                    operations.put(opKey(e.key().migration(), e.key().kind()), e);
                }
                case "source" -> sourceStates.putIfAbsent(n.get("migration").asText(), (ObjectNode) n.get("state"));
                case "retained" -> n.get("volumes").forEach(v -> retainedVolumes.put(v.asText(),
                        n.get("migration").asText()));
                case "released" -> n.get("volumes").forEach(v -> retainedVolumes.remove(v.asText()));
                default -> {
                    // an unknown record from a newer agent: ignore it
                }
            }
        }
    }

    private static String opKey(MigrationId migration, OperationKind kind) {
        return migration.value() + "/" + kind.name();
    }

    public synchronized long highestEpoch(String app) {
        return epochs.getOrDefault(app, 0L);
    }

    public synchronized void recordEpoch(String app, long epoch) {
        if (epoch > epochs.getOrDefault(app, 0L)) {
            epochs.put(app, epoch);
            ObjectNode n = Manifest.JSON.createObjectNode().put("t", "epoch").put("app", app).put("epoch", epoch);
            append(n);
        }
    }

    public synchronized Optional<Entry> operation(MigrationId migration, OperationKind kind) {
        return Optional.ofNullable(operations.get(opKey(migration, kind)));
    }

    public synchronized void operation(OperationKey key, String app, OperationStatus status) {
        operations.put(opKey(key.migration(), key.kind()), new Entry(key, app, status));
        ObjectNode n = Manifest.JSON.createObjectNode().put("t", "op").put("app", app)
                .put("migration", key.migration().value()).put("kind", key.kind().name()).put("epoch", key.epoch())
                .put("phase", status.phase().name());
        n.putObject("progress").put("done", status.progress().bytesDone()).put("total", status.progress().bytesTotal());
        status.archive().ifPresent(a -> n.putObject("archive").put("path", a.path()).put("size", a.size())
                .put("sha256", a.sha256()));
        ObjectNode facts = n.putObject("facts");
        status.facts().forEach(facts::put);
        status.error().ifPresent(err -> n.put("error", err));
        append(n);
    }

    private static Entry readOp(JsonNode n) {
        OperationKey key = new OperationKey(MigrationId.of(n.get("migration").asText()),
                OperationKind.valueOf(n.get("kind").asText()), n.get("epoch").asLong());
        OperationStatus.Phase phase = OperationStatus.Phase.valueOf(n.get("phase").asText());
        Progress progress = new Progress(n.path("progress").path("done").asLong(),
                n.path("progress").path("total").asLong(), 0);
        Optional<ArchiveInfo> archive = n.has("archive") ? Optional.of(new ArchiveInfo(n.get("archive").get("path")
                .asText(), n.get("archive").get("size").asLong(), n.get("archive").get("sha256").asText()))
                : Optional.empty();
        Map<String, String> facts = new HashMap<>();
        n.path("facts").properties().forEach(f -> facts.put(f.getKey(), f.getValue().asText()));
        Optional<String> error = n.has("error") ? Optional.of(n.get("error").asText()) : Optional.empty();
        if (phase == OperationStatus.Phase.FAILED && error.isEmpty()) {
            error = Optional.of("failed");
        }
        OperationStatus s = new OperationStatus(key, phase, progress, archive, facts,
                phase == OperationStatus.Phase.FAILED ? error : Optional.empty());
        return new Entry(key, n.path("app").asText(), s);
    }

    /** What the source looked like before the migration changed it; the first record wins. */
    public synchronized Optional<ObjectNode> sourceState(MigrationId migration) {
        return Optional.ofNullable(sourceStates.get(migration.value())).map(ObjectNode::deepCopy);
    }

    public synchronized void recordSourceState(MigrationId migration, ObjectNode state) {
        if (sourceStates.putIfAbsent(migration.value(), state.deepCopy()) == null) {
            ObjectNode n = Manifest.JSON.createObjectNode().put("t", "source").put("migration", migration.value());
            n.set("state", state);
            append(n);
        }
    }

    /** The migration that retired a volume on this node, if one did. */
    public synchronized Optional<String> retainedBy(String volume) {
        return Optional.ofNullable(retainedVolumes.get(volume));
    }

    public synchronized void recordRetained(MigrationId migration, List<String> volumes) {
        volumes.forEach(v -> retainedVolumes.put(v, migration.value()));
        ObjectNode n = Manifest.JSON.createObjectNode().put("t", "retained").put("migration", migration.value());
        var arr = n.putArray("volumes");
        volumes.forEach(arr::add);
        append(n);
    }

    public synchronized void recordReleased(List<String> volumes) {
        if (volumes.isEmpty()) {
            return;
        }
        volumes.forEach(retainedVolumes::remove);
        ObjectNode n = Manifest.JSON.createObjectNode().put("t", "released");
        var arr = n.putArray("volumes");
        volumes.forEach(arr::add);
        append(n);
    }

    private void append(ObjectNode n) {
        byte[] line = (n.toString() + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            ByteBuffer b = ByteBuffer.wrap(line);
            while (b.hasRemaining()) {
                channel.write(b);
            }
            channel.force(false);
        } catch (IOException e) {
            throw new ArchiveException("could not append to the journal " + file + ": " + e.getMessage(), e);
        }
    }

    public synchronized void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a journal we only append to
        }
    }
}
