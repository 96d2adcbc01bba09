package dev.fleet.migration.storage.cow.internal;

import java.io.IOException;
import java.io.InputStream;

/**
 * Reads just enough of a native send stream to tell a full stream from an incremental one, so a
 * receive can refuse a full stream aimed at an existing volume (which ZFS would otherwise
 * overwrite with {@code -F}) and an incremental one aimed at nothing, before anything is touched.
 */
public final class StreamHeaders {
    /** {@code btrfs-stream\0}, u32 version, then the first command: u32 length, u16 command. */
    public static final int BTRFS_PEEK = 13 + 4 + 4 + 2;
    /** dmu_replay_record: u32 type, u32 payload length, then drr_begin up to drr_fromguid. */
    public static final int ZFS_PEEK = 56;
    private static final byte[] BTRFS_MAGIC = "btrfs-stream\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int BTRFS_SEND_C_SUBVOL = 1;
    private static final int BTRFS_SEND_C_SNAPSHOT = 2;
    private static final long ZFS_MAGIC = 0x2F5bacbacL;

    public enum Kind { FULL, INCREMENTAL }

    private StreamHeaders() {}

    public static Kind btrfs(byte[] head) throws IOException {
        if (head.length < BTRFS_PEEK) {
            throw new IOException("not a btrfs send stream: only " + head.length + " bytes");
        }
        for (int i = 0; i < BTRFS_MAGIC.length; i++) {
            if (head[i] != BTRFS_MAGIC[i]) {
                throw new IOException("not a btrfs send stream: no 'btrfs-stream' magic");
            }
        }
        int cmd = (head[21] & 0xff) | (head[22] & 0xff) << 8; // little-endian, always
        return switch (cmd) {
            case BTRFS_SEND_C_SUBVOL -> Kind.FULL;
            case BTRFS_SEND_C_SNAPSHOT -> Kind.INCREMENTAL;
            default -> throw new IOException("btrfs send stream starts with command " + cmd
                    + ", neither a subvolume nor a snapshot");
        };
    }

    public static Kind zfs(byte[] head) throws IOException {
        if (head.length < ZFS_PEEK) {
            throw new IOException("not a ZFS send stream: only " + head.length + " bytes");
        }
        long magic = le64(head, 8);
        if (magic != ZFS_MAGIC && Long.reverseBytes(magic) != ZFS_MAGIC) {
            throw new IOException("not a ZFS send stream: no DMU_BACKUP_MAGIC");
        }
        if (le32(head, 0) != 0) {
            throw new IOException("ZFS send stream does not start with a BEGIN record");
        }
        // drr_fromguid is 0 in a full stream, whatever the sender's byte order
        return le64(head, 48) == 0 ? Kind.FULL : Kind.INCREMENTAL;
    }

    /** Reads exactly {@code n} bytes (fewer only at the end of the stream). */
    public static byte[] readHead(InputStream in, int n) throws IOException {
        return in.readNBytes(n);
    }

    private static long le64(byte[] b, int off) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xffL);
        }
        return v;
    }

    private static int le32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }
}
