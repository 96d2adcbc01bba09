package dev.fleet.migration.proxy.internal;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.Names;
import dev.fleet.migration.core.spi.Upstream;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Every name a router derives from an app, checked against an allow-list before it reaches a
 * proxy's config, a URL path, a file name or a process: route ids, file names, host names.
 */
public final class RouteNames {
    /** A DNS host name: dot-separated labels of letters, digits and inner dashes. */
    public static final Pattern HOST_NAME =
            Pattern.compile("(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");

    private RouteNames() {}

    /**
     * The stable key of an app's route: {@code route-<name>} for a container, {@code
     * compose-<project>} for a compose project, so the two kinds never share a key.
     */
    public static String key(AppRef app) {
        String name = app.name();
        Names.require("appId", name, Names.DOCKER_NAME, Names.DOCKER_NAME_MAX);
        return (app.kind() == AppRef.Kind.CONTAINER ? "route-" : "compose-") + name;
    }

    /**
     * The default host of an app under {@code domain}: {@code <name>.<domain>} for a container,
     * {@code <project>.compose.<domain>} for a compose project; lower-cased, {@code _} becomes
     * {@code -}. Apps whose names do not make a host name need a configured host mapper.
     */
    public static Function<AppRef, String> subdomainsOf(String domain) {
        requireHost("domain", domain);
        return app -> {
            String label = app.name().toLowerCase(Locale.ROOT).replace('_', '-');
            return app.kind() == AppRef.Kind.CONTAINER ? label + "." + domain : label + ".compose." + domain;
        };
    }

    /** The host {@code mapper} gives {@code app}, checked. */
    public static String hostOf(Function<AppRef, String> mapper, AppRef app) {
        return requireHost("host of app '" + app.id() + "'", mapper.apply(app));
    }

    public static String requireHost(String field, String host) {
        return Names.require(field, host, HOST_NAME, 253);
    }

    /** Parses {@code host:port} as proxies write it (an IPv6 host in brackets). */
    public static Upstream parseDial(String dial) {
        int colon = dial == null ? -1 : dial.lastIndexOf(':');
        if (colon <= 0 || colon == dial.length() - 1) {
            throw new InvalidInputException("upstream", dial, "must be host:port");
        }
        try {
            return new Upstream(dial.substring(0, colon), Integer.parseInt(dial.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new InvalidInputException("upstream", dial, "must end with a numeric port");
        }
    }
}
