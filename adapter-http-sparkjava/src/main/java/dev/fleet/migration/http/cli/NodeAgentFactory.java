package dev.fleet.migration.http.cli;

import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.http.config.FleetConfig;

/**
 * Makes the {@link NodeAgent} that {@code fleet agent} serves, from the node's config. The hook
 * where the Docker agent ({@code migration-docker}) is plugged in; passed to {@link FleetCli}
 * explicitly, never discovered.
 */
@FunctionalInterface
public interface NodeAgentFactory {
    /**
     * Called once when {@code fleet agent --node <id>} starts.
     *
     * @throws RuntimeException with a message naming what is wrong; the CLI prints it and exits 2
     */
    NodeAgent create(FleetConfig.Node node, FleetConfig config);

    /** The factory of a build that has no node implementation wired in. */
    NodeAgentFactory NONE = (node, config) -> {
        throw new IllegalStateException("this build of fleet has no node agent implementation wired in (the Docker"
                + " agent from migration-docker is not yet part of it); node " + node.id() + " cannot be served");
    };
}
