package dev.fleet.migration.proxy.internal;

/**
 * 32-bit FNV-1a, hex-encoded big-endian: the hash Caddy 2.6 uses for its config ETags
 * ({@code "<path> <fnv1a32 of the JSON it sends>"}). Caddy 2.6 sends that ETag only as an HTTP
 * trailer, which {@code java.net.http} does not expose, so the router computes it from the body.
 */
public final class Fnv1a32 {
    private Fnv1a32() {}

    public static String hex(byte[] data) {
        int h = 0x811c9dc5;
        for (byte b : data) {
            h ^= b & 0xff;
            h *= 0x01000193;
        }
        return String.format("%08x", h);
    }
}
