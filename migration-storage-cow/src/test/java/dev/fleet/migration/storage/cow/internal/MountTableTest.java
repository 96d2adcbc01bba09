package dev.fleet.migration.storage.cow.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class MountTableTest {
    private static final MountTable TABLE = MountTable.parse(List.of(
            "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw",
            "50 22 0:49 / /tank rw,relatime - fuse.zfs tank rw,user_id=0",
            "51 50 0:50 / /tank/my\\040vol rw,relatime - fuse.zfs tank/my\\040vol rw",
            "52 22 0:51 / /snap/v@t ro,relatime - fuse.zfs tank/fleet-views/t-1 ro",
            "60 22 0:50 /data /var/lib/docker/volumes/x/_data rw shared:5 master:1 - btrfs /dev/loop0 rw,subvol=/data"));

    @Test
    void findsTheMountExactlyAtAPathAndDecodesEscapes() {
        assertThat(TABLE.at(Path.of("/tank/my vol")).orElseThrow().source()).isEqualTo("tank/my vol");
        assertThat(TABLE.at(Path.of("/tank/other"))).isEmpty();
        assertThat(TABLE.at(Path.of("/var/lib/docker/volumes/x/_data")).orElseThrow().root()).isEqualTo("/data");
    }

    @Test
    void findsTheMountHoldingAPath() {
        assertThat(TABLE.holding(Path.of("/tank/a/b")).orElseThrow().source()).isEqualTo("tank");
        assertThat(TABLE.holding(Path.of("/etc")).orElseThrow().fsType()).isEqualTo("ext4");
    }

    @Test
    void readsTheReadOnlyFlag() {
        assertThat(TABLE.at(Path.of("/snap/v@t")).orElseThrow().readOnly()).isTrue();
        assertThat(TABLE.at(Path.of("/tank")).orElseThrow().readOnly()).isFalse();
    }
}
