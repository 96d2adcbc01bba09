/**
 * Reverse-proxy routers: {@link dev.fleet.migration.proxy.CaddyProxyRouter} (Caddy's admin API,
 * one route per app by {@code @id}, its upstream switched with one conditional request) and
 * {@link dev.fleet.migration.proxy.NginxProxyRouter} (one file per app written atomically, a
 * tested reload, the switch verified through nginx). Both pass core's
 * {@code ProxyRouterContract} against the real servers. Helpers live in {@code internal}.
 */
package dev.fleet.migration.proxy;
