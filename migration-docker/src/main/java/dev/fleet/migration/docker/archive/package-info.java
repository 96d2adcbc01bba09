/**
 * The migration archive: one tar file, {@code manifest.json} first (format version, app, every
 * container's {@code docker inspect}, each entry's size and sha256), then the image entry
 * ({@code docker save}) and one nested tar per named volume.
 *
 * <p>{@link dev.fleet.migration.docker.archive.VolumeTarWriter} writes a volume tree;
 * {@link dev.fleet.migration.docker.archive.VolumeTarExtractor} reads one back and refuses
 * anything hostile before a byte lands outside its root;
 * {@link dev.fleet.migration.docker.archive.ArchiveWriter} and
 * {@link dev.fleet.migration.docker.archive.ArchiveReader} handle the outer file.
 */
package dev.fleet.migration.docker.archive;
