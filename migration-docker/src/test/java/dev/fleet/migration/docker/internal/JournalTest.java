package dev.fleet.migration.docker.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.Progress;
import dev.fleet.migration.core.spi.OperationKey;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.spi.OperationStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("The node-local journal")
class JournalTest {
    @TempDir
    Path dir;

    final MigrationId m = MigrationId.of("m-1");
    final OperationKey snapshot = new OperationKey(m, OperationKind.SNAPSHOT, 3);

    @Test
    void remembersEpochsResultsAndSourceStateAcrossRestarts() {
        Journal j = new Journal(dir.resolve("journal.jsonl"));
        j.recordEpoch("web", 3);
        j.recordEpoch("web", 2); // lower: ignored
        ArchiveInfo archive = new ArchiveInfo("/a/m-1.tar", 10, "a".repeat(64));
        j.operation(snapshot, "web", OperationStatus.succeeded(snapshot, new Progress(10, 10, 0), Optional.of(archive),
                Map.of("k", "v")));
        j.recordSourceState(m, dev.fleet.migration.docker.archive.Manifest.JSON.createObjectNode().put("x", 1));
        j.recordRetained(m, List.of("data"));
        j.close();

        Journal again = new Journal(dir.resolve("journal.jsonl"));
        assertThat(again.highestEpoch("web")).isEqualTo(3);
        OperationStatus s = again.operation(m, OperationKind.SNAPSHOT).orElseThrow().status();
        assertThat(s.phase()).isEqualTo(OperationStatus.Phase.SUCCEEDED);
        assertThat(s.archive()).contains(archive);
        assertThat(s.facts()).containsEntry("k", "v");
        assertThat(again.sourceState(m).orElseThrow().get("x").asInt()).isEqualTo(1);
        assertThat(again.retainedBy("data")).contains("m-1");
    }

    @Test
    void replaysAnOperationCutOffByARestartAsFailed() {
        Journal j = new Journal(dir.resolve("journal.jsonl"));
        j.operation(snapshot, "web", OperationStatus.running(snapshot, Progress.NONE));
        j.close();

        Journal again = new Journal(dir.resolve("journal.jsonl"));
        OperationStatus s = again.operation(m, OperationKind.SNAPSHOT).orElseThrow().status();
        assertThat(s.phase()).isEqualTo(OperationStatus.Phase.FAILED);
        assertThat(s.error().orElseThrow()).contains("interrupted");
    }

    @Test
    void ignoresALineTornByACrash() throws IOException {
        Journal j = new Journal(dir.resolve("journal.jsonl"));
        j.recordEpoch("web", 4);
        j.close();
        Files.writeString(dir.resolve("journal.jsonl"), "{\"t\":\"epoch\",\"app\":\"web\",\"ep", StandardOpenOption.APPEND);

        assertThat(new Journal(dir.resolve("journal.jsonl")).highestEpoch("web")).isEqualTo(4);
    }
}
