package dev.fleet.migration.storage.cow.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StreamHeadersTest {
    private static byte[] btrfs(int firstCommand) {
        ByteBuffer b = ByteBuffer.allocate(StreamHeaders.BTRFS_PEEK).order(ByteOrder.LITTLE_ENDIAN);
        b.put("btrfs-stream\0".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(41).putShort((short) firstCommand);
        return b.array();
    }

    private static byte[] zfs(long fromGuid, ByteOrder order) {
        ByteBuffer b = ByteBuffer.allocate(StreamHeaders.ZFS_PEEK).order(order);
        b.putInt(0).putInt(0).putLong(0x2F5bacbacL).putLong(1).putLong(1_700_000_000L).putInt(2).putInt(0)
                .putLong(0x1234L).putLong(fromGuid);
        return b.array();
    }

    @Test
    void tellsFullFromIncrementalBtrfsStreams() throws IOException {
        assertThat(StreamHeaders.btrfs(btrfs(1))).isEqualTo(StreamHeaders.Kind.FULL);
        assertThat(StreamHeaders.btrfs(btrfs(2))).isEqualTo(StreamHeaders.Kind.INCREMENTAL);
    }

    @Test
    void tellsFullFromIncrementalZfsStreamsInEitherByteOrder() throws IOException {
        for (ByteOrder o : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            assertThat(StreamHeaders.zfs(zfs(0, o))).isEqualTo(StreamHeaders.Kind.FULL);
            assertThat(StreamHeaders.zfs(zfs(0xabcdefL, o))).isEqualTo(StreamHeaders.Kind.INCREMENTAL);
        }
    }

    @Test
    void refusesWhatIsNotAStream() {
        assertThatThrownBy(() -> StreamHeaders.btrfs(new byte[3])).hasMessageContaining("only 3 bytes");
        assertThatThrownBy(() -> StreamHeaders.btrfs(new byte[StreamHeaders.BTRFS_PEEK])).hasMessageContaining("magic");
        assertThatThrownBy(() -> StreamHeaders.btrfs(btrfs(9))).hasMessageContaining("command 9");
        assertThatThrownBy(() -> StreamHeaders.zfs(new byte[StreamHeaders.ZFS_PEEK])).hasMessageContaining("MAGIC");
        assertThatThrownBy(() -> StreamHeaders.zfs(btrfs(1))).isInstanceOf(IOException.class);
    }
}
