package dev.fleet.migration.docker;

import com.github.dockerjava.core.LocalDirectorySSLConfig;
import com.github.dockerjava.transport.DockerHttpClient;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import dev.fleet.migration.core.InvalidInputException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a node's Docker engine listens: a unix socket ({@code unix:///var/run/docker.sock}) or
 * TCP with TLS ({@code tcp://host:2376} plus a directory holding {@code ca.pem},
 * {@code cert.pem} and {@code key.pem}). Plain TCP without TLS is refused: the engine API is
 * root on the node.
 *
 * @param uri      the engine's address
 * @param certPath the TLS client certificate directory, required for {@code tcp://}
 */
public record DockerEndpoint(URI uri, Optional<Path> certPath) {
    public DockerEndpoint {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(certPath, "certPath");
        String scheme = uri.getScheme();
        if ("unix".equals(scheme)) {
            if (uri.getPath() == null || uri.getPath().isEmpty()) {
                throw new InvalidInputException("docker.endpoint", uri.toString(), "must name a socket path");
            }
        } else if ("tcp".equals(scheme)) {
            if (certPath.isEmpty()) {
                throw new InvalidInputException("docker.endpoint", uri.toString(),
                        "must come with a TLS certificate directory (plain TCP exposes root on the node)");
            }
        } else {
            throw new InvalidInputException("docker.endpoint", uri.toString(), "must be unix:///path or tcp://host:port");
        }
    }

    /** A unix socket endpoint, {@code unix:///path/to/docker.sock}. */
    public static DockerEndpoint unix(String uri) {
        return new DockerEndpoint(URI.create(uri), Optional.empty());
    }

    /** A TCP endpoint with TLS client certificates from {@code certPath}. */
    public static DockerEndpoint tls(String uri, Path certPath) {
        return new DockerEndpoint(URI.create(uri), Optional.of(certPath));
    }

    /** Builds docker-java's zerodep HTTP client for this endpoint. */
    DockerHttpClient httpClient() {
        ZerodepDockerHttpClient.Builder b = new ZerodepDockerHttpClient.Builder()
                .dockerHost(uri)
                .maxConnections(32)
                .connectionTimeout(Duration.ofSeconds(10));
        certPath.ifPresent(p -> b.sslConfig(new LocalDirectorySSLConfig(p.toString())));
        return b.build();
    }

    @Override
    public String toString() {
        return uri.toString();
    }
}
