package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.InvalidInputException;
import java.util.regex.Pattern;

/** Where a route sends traffic: a host (name or address) and a port. */
public record Upstream(String host, int port) {
    private static final Pattern HOST = Pattern.compile("[a-zA-Z0-9]([a-zA-Z0-9.-]{0,252})|\\[[0-9a-fA-F:]+\\]");

    public Upstream {
        dev.fleet.migration.core.Names.require("upstream.host", host, HOST, 255);
        if (port < 1 || port > 65535) {
            throw new InvalidInputException("upstream.port", String.valueOf(port), "must be in 1..65535");
        }
    }

    /** {@code host:port}, as proxies write it. */
    public String dial() {
        return host + ":" + port;
    }

    @Override
    public String toString() {
        return dial();
    }
}
