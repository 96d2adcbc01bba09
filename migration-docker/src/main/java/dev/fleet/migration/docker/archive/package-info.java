/**
 * The migration archive (format version 2, see docs/archive-format.md): one tar file written in
 * a single streaming pass, {@code manifest.json} first (format version, app, every container's
 * {@code docker inspect}, the chunk size), then the image ({@code docker save}) and one nested
 * tar per named volume, each in chunk entries, and {@code index.json} last (each part's size and
 * chunk count, a delta's deletions, the sha256 of every byte before it).
 *
 * <p>{@link dev.fleet.migration.docker.archive.VolumeTarWriter} writes a volume tree;
 * {@link dev.fleet.migration.docker.archive.VolumeTarExtractor} reads one back and refuses
 * anything hostile before a byte lands outside its root;
 * {@link dev.fleet.migration.docker.archive.ArchiveWriter} and
 * {@link dev.fleet.migration.docker.archive.ArchiveReader} handle the outer file;
 * {@link dev.fleet.migration.docker.archive.TarHeaderGuard} stands in front of every tar reader
 * and refuses the headers that would make it hold too much in memory.
 */
package dev.fleet.migration.docker.archive;
