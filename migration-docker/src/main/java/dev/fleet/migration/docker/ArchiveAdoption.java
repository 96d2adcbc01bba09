package dev.fleet.migration.docker;

import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.NodeOperationException;
import dev.fleet.migration.docker.archive.Digests;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;

/**
 * The snapshot step of a replay: instead of reading the volumes again, the source adopts the
 * archive an ended migration kept in this node's archive directory. The kept archive is found
 * by its file name only (never by a path from the request), must be a regular file of the
 * recorded size whose sha256 matches the record, and must have its change fence beside it: the
 * final delta at cutover is taken against that fence, so every write since the original
 * snapshot still reaches the target. The archive is hard-linked (copied where links are not
 * possible) and the fence copied under the new migration's names, so the retention sweep of the
 * kept migration cannot pull them from under the replay.
 */
final class ArchiveAdoption {
    private ArchiveAdoption() {}

    static Operation.Result adopt(NodeContext ctx, Operation op) throws IOException {
        ArchiveInfo kept = op.request.archive().orElseThrow();
        MigrationId m = op.request.key().migration();
        String name = kept.fileName();
        MigrationId keptId = keptMigration(ctx, name);
        if (keptId.equals(m)) {
            throw refuse(ctx, "a migration cannot replay its own archive (" + name + ")");
        }
        Path archive = ctx.archive(keptId);
        Path fence = ctx.fence(keptId);
        if (!Files.isRegularFile(archive, LinkOption.NOFOLLOW_LINKS)) {
            throw refuse(ctx, "the kept archive " + name + " is not in " + ctx.archiveDir + " on node " + ctx.node
                    + ": it was swept by retention, or written on another node");
        }
        if (!Files.isRegularFile(fence, LinkOption.NOFOLLOW_LINKS)) {
            throw refuse(ctx, "the kept archive " + name + " has no change fence (" + fence.getFileName()
                    + ") on node " + ctx.node + ": without it the final delta could miss writes, so it is not replayed");
        }
        if (Files.exists(ctx.archiveDir.resolve(keptId.value() + ".cow-full.json"), LinkOption.NOFOLLOW_LINKS)) {
            throw refuse(ctx, "the kept archive " + name + " sent its volumes as native btrfs/ZFS streams, which are "
                    + "released when that migration ended: start a new migration instead of a replay");
        }
        long size = Files.size(archive);
        if (size != kept.size()) {
            throw refuse(ctx, "the kept archive " + name + " is " + size + " bytes, but the record says " + kept.size());
        }
        op.total(size);
        String sha = Digests.ofFile(archive, n -> {
            op.checkCancelled("adopting the kept archive");
            op.add(n);
        });
        if (!sha.equals(kept.sha256())) {
            throw refuse(ctx, "checksum mismatch: the kept archive " + name + " has sha256 " + sha
                    + ", but the record says " + kept.sha256());
        }
        Path adopted = ctx.archive(m);
        place(archive, adopted, true);
        place(fence, ctx.fence(m), false);
        return new Operation.Result(Optional.of(new ArchiveInfo(adopted.toString(), size, sha)),
                Map.of("snapshot.adopted", keptId.value()));
    }

    private static MigrationId keptMigration(NodeContext ctx, String name) {
        if (!name.endsWith(".tar")) {
            throw refuse(ctx, "the kept archive's name " + name + " does not end in .tar");
        }
        try {
            return MigrationId.of(name.substring(0, name.length() - ".tar".length()));
        } catch (InvalidInputException e) {
            throw refuse(ctx, "the kept archive's name " + name + " is not a migration's archive: " + e.getMessage());
        }
    }

    /** Puts {@code from} at {@code to} atomically: a hard link when asked and possible, else a copy and a rename. */
    private static void place(Path from, Path to, boolean link) throws IOException {
        Path tmp = to.resolveSibling("." + to.getFileName() + ".adopting");
        Files.deleteIfExists(tmp);
        boolean linked = false;
        if (link) {
            try {
                Files.createLink(tmp, from);
                linked = true;
            } catch (IOException | UnsupportedOperationException e) {
                // a filesystem without hard links: copy instead
            }
        }
        if (!linked) {
            Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static NodeOperationException refuse(NodeContext ctx, String why) {
        return new NodeOperationException(ctx.node, "snapshot", why);
    }
}
