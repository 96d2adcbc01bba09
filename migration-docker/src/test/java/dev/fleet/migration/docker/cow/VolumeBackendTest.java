package dev.fleet.migration.docker.cow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.MigrationException;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("Finding where a volume's data lives, and the lists of native streams")
class VolumeBackendTest {
    private static final MigrationId M = MigrationId.of("m-0wh7waa85x129qz3gg75");

    static ObjectNode volume(String name, String mountpoint) {
        ObjectNode v = CowStorage.JSON.createObjectNode().put("Name", name).put("Driver", "local")
                .put("Mountpoint", mountpoint);
        return v;
    }

    @Test
    void bindVolumeDataIsItsDeviceNotItsDataDirectory() {
        ObjectNode v = volume("web", "/var/lib/docker/volumes/web/_data");
        v.putObject("Options").put("type", "none").put("o", "bind").put("device", "/pool/volumes/web");
        assertThat(VolumeBackend.dataPath(v)).isEqualTo(Path.of("/pool/volumes/web"));
    }

    @Test
    void recursiveBindWithMoreOptionsIsABindToo() {
        ObjectNode v = volume("web", "/var/lib/docker/volumes/web/_data");
        v.putObject("Options").put("type", "none").put("o", "ro,rbind").put("device", "/pool/web/");
        assertThat(VolumeBackend.dataPath(v)).isEqualTo(Path.of("/pool/web"));
    }

    @Test
    void otherVolumesLiveInTheirMountpoint() {
        ObjectNode nfs = volume("nfs", "/var/lib/docker/volumes/nfs/_data");
        nfs.putObject("Options").put("type", "nfs").put("o", "addr=10.0.0.1").put("device", ":/export");
        assertThat(VolumeBackend.dataPath(nfs)).isEqualTo(Path.of("/var/lib/docker/volumes/nfs/_data"));
        ObjectNode relative = volume("rel", "/var/lib/docker/volumes/rel/_data");
        relative.putObject("Options").put("type", "none").put("o", "bind").put("device", "pool/rel");
        assertThat(VolumeBackend.dataPath(relative)).isEqualTo(Path.of("/var/lib/docker/volumes/rel/_data"));
        assertThat(VolumeBackend.dataPath(volume("plain", "/var/lib/docker/volumes/plain/_data")))
                .isEqualTo(Path.of("/var/lib/docker/volumes/plain/_data"));
    }

    @Test
    void volumeOfAnotherDriverFallsBack() {
        ObjectNode v = volume("remote", "/x");
        v.put("Driver", "rexray");
        VolumeBackend b = VolumeBackend.detect(v, List.of());
        assertThat(b.onPool()).isFalse();
        assertThat(b.reason()).contains("driver rexray");
    }

    @Test
    void switchedOffStorageNeverSnapshots(@TempDir Path dir) throws Exception {
        CowStorage off = new CowStorage(NodeId.of("n"), Clock.systemUTC(), dir, false, Optional.empty(), Map.of());
        VolumeBackend b = off.detect(volume("web", dir.toString()));
        assertThat(b.onPool()).isFalse();
        assertThat(b.reason()).contains("switched off");
        assertThat(off.snapshot(M, NodeId.of("t"), Map.of("web", volume("web", dir.toString()))).volumes()).isEmpty();
    }

    @Test
    void readsTheStreamListItWrote(@TempDir Path dir) throws Exception {
        CowStorage s = new CowStorage(NodeId.of("n"), Clock.systemUTC(), dir, true, Optional.empty(), Map.of());
        new StreamList(List.of(new StreamList.Stream(M, "web-data", CowStorage.FULL,
                dev.fleet.migration.storage.cow.PoolKind.BTRFS, 42, "a".repeat(64))))
                .write(s, M, CowStorage.FULL);
        StreamList read = StreamList.read(s, M, CowStorage.FULL);
        assertThat(read.find("web-data")).isPresent();
        assertThat(read.find("web-data").get().size()).isEqualTo(42);
        assertThat(StreamList.read(s, M, CowStorage.DELTA).streams()).isEmpty();
    }

    @Test
    void refusesStreamListNamingAPathAsVolume(@TempDir Path dir) throws Exception {
        CowStorage s = new CowStorage(NodeId.of("n"), Clock.systemUTC(), dir, true, Optional.empty(), Map.of());
        Files.writeString(dir.resolve(M.value() + ".cow-full.json"), "{\"migration\":\"" + M.value()
                + "\",\"phase\":\"full\",\"streams\":[{\"volume\":\"../etc\",\"kind\":\"btrfs\",\"size\":1,"
                + "\"sha256\":\"" + "b".repeat(64) + "\"}]}");
        assertThatThrownBy(() -> StreamList.read(s, M, CowStorage.FULL)).isInstanceOf(MigrationException.class)
                .hasMessageContaining("is not valid").hasMessageContaining("../etc");
    }

    @Test
    void refusesStreamListOfAnotherMigration(@TempDir Path dir) throws Exception {
        CowStorage s = new CowStorage(NodeId.of("n"), Clock.systemUTC(), dir, true, Optional.empty(), Map.of());
        Files.writeString(dir.resolve(M.value() + ".cow-full.json"),
                "{\"migration\":\"m-other\",\"phase\":\"full\",\"streams\":[]}");
        assertThatThrownBy(() -> StreamList.read(s, M, CowStorage.FULL)).isInstanceOf(MigrationException.class)
                .hasMessageContaining("m-other");
    }

    @Test
    void targetWithoutPoolRefusesANativeStream(@TempDir Path dir) throws Exception {
        CowStorage s = new CowStorage(NodeId.of("n"), Clock.systemUTC(), dir, true, Optional.empty(), Map.of());
        new StreamList(List.of(new StreamList.Stream(M, "web-data", CowStorage.FULL,
                dev.fleet.migration.storage.cow.PoolKind.ZFS, 42, "a".repeat(64)))).write(s, M, CowStorage.FULL);
        assertThatThrownBy(() -> s.placeVolume(M, "web-data", CowStorage.JSON.createObjectNode()))
                .isInstanceOf(MigrationException.class)
                .hasMessageContaining("came as a native zfs stream, but node n has no volume pool");
        ObjectNode create = CowStorage.JSON.createObjectNode();
        assertThat(s.placeVolume(M, "other", create)).isFalse();
        assertThat(create.has("DriverOpts")).isFalse();
    }
}
