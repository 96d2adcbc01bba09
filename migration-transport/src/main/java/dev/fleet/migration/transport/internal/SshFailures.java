package dev.fleet.migration.transport.internal;

import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.TransportException;
import dev.fleet.migration.core.spi.TransportException.Reason;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads what OpenSSH's {@code ssh} and {@code rsync} printed on stderr and names the cause.
 * The phrases are OpenSSH's and rsync's own, stable for many releases.
 */
public final class SshFailures {
    private static final Pattern FINGERPRINT = Pattern.compile("(SHA256:[A-Za-z0-9+/]{43})");

    private SshFailures() {}

    /** The reason, or empty when stderr names none of the known causes. */
    public static Optional<Reason> reasonIn(String stderr) {
        String s = stderr.toLowerCase(Locale.ROOT);
        if (s.contains("remote host identification has changed") || s.contains("host key for")
                && s.contains("has changed")) {
            return Optional.of(Reason.HOST_KEY_MISMATCH);
        }
        if (s.contains("host key is known for") || s.contains("no matching host key")
                || s.contains("host key verification failed")) {
            return Optional.of(Reason.HOST_KEY_UNKNOWN);
        }
        if (s.contains("permission denied (") || s.contains("too many authentication failures")
                || s.contains("no supported authentication methods")) {
            return Optional.of(Reason.AUTH_REFUSED);
        }
        if (s.contains("no space left on device") || s.contains("disk quota exceeded")) {
            return Optional.of(Reason.DISK_FULL);
        }
        if (s.contains("connection refused") || s.contains("no route to host") || s.contains("connection timed out")
                || s.contains("could not resolve hostname") || s.contains("network is unreachable")
                || s.contains("operation timed out") || s.contains("connection closed by")
                || s.contains("connection reset by") || s.contains("broken pipe")
                || s.contains("connection unexpectedly closed") || s.contains("timeout in data send/receive")
                || s.contains("kex_exchange_identification")) {
            return Optional.of(Reason.HOST_UNREACHABLE);
        }
        return Optional.empty();
    }

    public static Optional<String> fingerprintIn(String stderr) {
        Matcher m = FINGERPRINT.matcher(stderr);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /**
     * The exception for a failed ssh or rsync run. For host-key failures it names the
     * fingerprint the server offered (from ssh's message, or by asking the server).
     */
    public static TransportException classify(String what, Endpoint target, int exitCode, String stderr,
                                              java.util.function.Supplier<Optional<String>> offeredFingerprint) {
        Reason reason = reasonIn(stderr).orElse(Reason.IO);
        String where = target.user() + "@" + target.host() + ":" + target.port();
        String detail = lastLines(stderr, 6);
        return switch (reason) {
            case HOST_KEY_MISMATCH, HOST_KEY_UNKNOWN -> {
                String fp = fingerprintIn(stderr).or(offeredFingerprint).orElse("(fingerprint not available)");
                String msg = reason == Reason.HOST_KEY_MISMATCH
                        ? "host key of " + where + " does not match the known-hosts entry; the server offered "
                        + fp + " (refused)"
                        : "host key of " + where + " is not in the known-hosts file; the server offered " + fp
                        + " (refused; add it to known_hosts after checking it out of band)";
                yield new TransportException(reason, msg);
            }
            case AUTH_REFUSED -> new TransportException(reason, where + " refused the public key of this node: "
                    + detail);
            case HOST_UNREACHABLE -> new TransportException(reason, "cannot reach " + where + ": " + detail);
            case DISK_FULL -> new TransportException(reason, "no space left on the target " + where + ": " + detail);
            default -> new TransportException(reason, what + " failed with exit code " + exitCode + ": " + detail);
        };
    }

    public static String lastLines(String text, int n) {
        String[] lines = text.strip().split("\\R");
        int from = Math.max(0, lines.length - n);
        StringBuilder out = new StringBuilder();
        for (int i = from; i < lines.length; i++) {
            if (!lines[i].isBlank()) {
                out.append(out.length() == 0 ? "" : " | ").append(lines[i].strip());
            }
        }
        return out.length() == 0 ? "(no message)" : out.toString();
    }
}
