package dev.fleet.migration.proxy;

import dev.fleet.migration.core.MigrationException;

/**
 * The proxy answered, but refused or failed the change for a reason retrying will not fix (a
 * rejected config, a failed {@code nginx -t}, a route in a shape this library did not write).
 * Nothing was changed, or the change was rolled back. An unreachable proxy is an
 * {@link dev.fleet.migration.core.UnavailableException} instead.
 */
public class ProxyException extends MigrationException {
    private static final long serialVersionUID = 1L;
    private final String proxy;

    public ProxyException(String proxy, String message) {
        super(proxy + ": " + message);
        this.proxy = proxy;
    }

    public ProxyException(String proxy, String message, Throwable cause) {
        super(proxy + ": " + message, cause);
        this.proxy = proxy;
    }

    /** Which proxy failed, e.g. {@code caddy admin 127.0.0.1:2019} or {@code nginx /etc/nginx/nginx.conf}. */
    public String proxy() {
        return proxy;
    }

    @Override
    public Kind kind() {
        return Kind.FAILED;
    }
}
