package dev.fleet.migration.core.spi;

import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.Names;
import java.util.regex.Pattern;

/** An SSH endpoint of a node: host, port and login user, each validated against an allow-list. */
public record Endpoint(String host, int port, String user) {
    private static final Pattern HOST = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9.-]{0,252}");
    private static final Pattern USER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");

    public Endpoint {
        Names.require("endpoint.host", host, HOST, 253);
        Names.require("endpoint.user", user, USER, 32);
        if (port < 1 || port > 65535) {
            throw new InvalidInputException("endpoint.port", String.valueOf(port), "must be in 1..65535");
        }
    }
}
