/**
 * The node side of a migration on a Docker engine: {@link dev.fleet.migration.docker.DockerNodeAgent}
 * (the {@link dev.fleet.migration.core.spi.NodeAgent} of one node) and
 * {@link dev.fleet.migration.docker.DockerEndpoint} (how to reach its engine). The archive format
 * lives in {@code archive}; the engine API wrapper and the node-local journal in {@code internal}.
 *
 * <p>Wiring, as the adapter does it:
 * <pre>{@code
 * DockerNodeAgent a = DockerNodeAgent.builder()
 *         .node(NodeId.of("node-a"))
 *         .docker(DockerEndpoint.unix("unix:///var/run/docker.sock"))
 *         .archiveDirectory(Path.of("/var/lib/fleet/migrations"))
 *         .transport(rsync)
 *         .peer(NodeId.of("node-b"), new DockerNodeAgent.Peer(new Endpoint("10.0.0.2", 22, "fleet"),
 *                 "/var/lib/fleet/migrations"))
 *         .build();
 * }</pre>
 *
 * <p>The agent runs on its node as root, with a UTF-8 locale ({@code LC_ALL=C.UTF-8}): it reads
 * and writes volume data at the volumes' mount points.
 */
package dev.fleet.migration.docker;
