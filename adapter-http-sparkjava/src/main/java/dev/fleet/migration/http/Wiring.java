package dev.fleet.migration.http;

import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.NoopProxyRouter;
import dev.fleet.migration.core.spi.NodeAgent;
import dev.fleet.migration.core.spi.ProxyRouter;
import dev.fleet.migration.core.spi.Transport;
import dev.fleet.migration.docker.DockerEndpoint;
import dev.fleet.migration.docker.DockerNodeAgent;
import dev.fleet.migration.storage.cow.PoolKind;
import dev.fleet.migration.http.cli.NodeAgentFactory;
import dev.fleet.migration.http.config.FleetConfig;
import dev.fleet.migration.proxy.CaddyProxyRouter;
import dev.fleet.migration.proxy.NginxProxyRouter;
import dev.fleet.migration.transport.RsyncTransport;
import dev.fleet.migration.transport.ScpTransport;
import dev.fleet.migration.transport.SharedDirectoryTransport;
import dev.fleet.migration.transport.SshSettings;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where the config meets the implementations: the Docker node agent a {@code fleet agent}
 * serves, and the proxy router a {@code fleet serve} switches. Explicit construction, no
 * discovery; every missing setting is an error that names its key.
 */
public final class Wiring {
    private Wiring() {}

    /** Builds a {@link DockerNodeAgent} for a configured node, with the transport its pairs name. */
    public static NodeAgentFactory dockerAgents() {
        return Wiring::dockerAgent;
    }

    static NodeAgent dockerAgent(FleetConfig.Node node, FleetConfig config) {
        String at = "node " + node.id() + ": ";
        String docker = node.docker().orElseThrow(() -> new IllegalArgumentException(at
                + "nodes[].docker is required to run its agent (unix:///var/run/docker.sock or tcp://host:2376)"));
        DockerEndpoint endpoint;
        if (docker.startsWith("unix://")) {
            endpoint = DockerEndpoint.unix(docker);
        } else {
            Path certs = node.dockerTlsDir().orElseThrow(() -> new IllegalArgumentException(at
                    + "a tcp:// Docker endpoint needs nodes[].dockerTlsDir (ca.pem, cert.pem, key.pem): plain TCP is refused"));
            endpoint = DockerEndpoint.tls(docker, certs);
        }
        Set<String> kinds = new TreeSet<>();
        for (FleetConfig.Node peer : config.nodes()) {
            if (!peer.id().equals(node.id())) {
                kinds.add(config.transport().between(node.id(), peer.id()));
            }
        }
        if (kinds.size() != 1) {
            throw new IllegalArgumentException(at + "its agent pushes with one transport, but transport.pairs give it "
                    + kinds + "; use one kind for every pair from this node");
        }
        String kind = kinds.iterator().next();
        DockerNodeAgent.Builder b = DockerNodeAgent.builder()
                .node(node.id())
                .docker(endpoint)
                .archiveDirectory(node.archiveDir())
                .transport(transport(kind, node, at))
                .probeHostPorts(node.checkHostPorts());
        node.poolRoot().ifPresent(root -> b.volumePool(PoolKind.of(node.pool()), root));
        for (FleetConfig.Node peer : config.nodes()) {
            if (!peer.id().equals(node.id())) {
                b.peer(peer.id(), new DockerNodeAgent.Peer(sshEndpoint(peer, kind, at), peer.archiveDir().toString()));
                if (peer.poolRoot().isPresent()) { // it places restored volumes on its pool: same kind goes natively
                    b.peerVolumePool(peer.id(), PoolKind.of(peer.pool()));
                }
            }
        }
        return b.build();
    }

    private static Transport transport(String kind, FleetConfig.Node node, String at) {
        switch (kind) {
            case "shared-dir":
                return SharedDirectoryTransport.builder().build();
            case "rsync":
            case "scp": {
                Path key = node.sshKey().orElseThrow(() -> new IllegalArgumentException(at
                        + kind + " needs nodes[].sshKey (the private key this agent pushes with)"));
                Path knownHosts = node.knownHosts().orElseThrow(() -> new IllegalArgumentException(at
                        + kind + " needs nodes[].knownHosts (the other nodes' host keys; unknown keys are refused)"));
                SshSettings ssh = new SshSettings(key, knownHosts);
                return kind.equals("rsync") ? RsyncTransport.builder(ssh).build() : ScpTransport.builder(ssh).build();
            }
            default:
                throw new IllegalArgumentException(at + "unknown transport " + kind);
        }
    }

    private static Endpoint sshEndpoint(FleetConfig.Node peer, String kind, String at) {
        if (peer.ssh().isEmpty()) {
            if (kind.equals("shared-dir")) {
                return new Endpoint("127.0.0.1", 22, "root"); // not dialled: the directory is shared
            }
            throw new IllegalArgumentException(at + "pushing to node " + peer.id() + " with " + kind
                    + " needs that node's ssh endpoint (nodes[].ssh: user@host[:port])");
        }
        String s = peer.ssh().get();
        String user = s.substring(0, s.indexOf('@'));
        String hostPort = s.substring(s.indexOf('@') + 1);
        int colon = hostPort.lastIndexOf(':');
        return colon < 0 ? new Endpoint(hostPort, 22, user)
                : new Endpoint(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)), user);
    }

    /** The proxy router the config names. */
    public static ProxyRouter router(FleetConfig config) {
        FleetConfig.Proxy p = config.proxy();
        switch (p.kind()) {
            case "none":
                return new NoopProxyRouter();
            case "caddy": {
                String admin = p.adminUrl().orElseThrow().replaceFirst("^https?://", "").replaceAll("/+$", "");
                CaddyProxyRouter.Builder b = CaddyProxyRouter.builder(admin);
                p.option("server").ifPresent(b::server);
                p.option("domain").ifPresent(b::domain);
                return b.build();
            }
            case "nginx": {
                NginxProxyRouter.Builder b = NginxProxyRouter.builder(Path.of(p.option("binary").orElseThrow()),
                        Path.of(p.option("prefix").orElseThrow()), Path.of(p.option("conf").orElseThrow()),
                        Path.of(p.option("routesDir").orElseThrow()));
                String listen = p.option("listen").orElseThrow();
                int colon = listen.lastIndexOf(':');
                b.listen(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)));
                p.option("domain").ifPresent(b::domain);
                return b.build();
            }
            default:
                throw new IllegalArgumentException("proxy.kind " + p.kind() + " is not wired");
        }
    }
}
