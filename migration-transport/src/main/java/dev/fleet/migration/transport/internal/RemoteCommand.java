package dev.fleet.migration.transport.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A command for the remote side of an SSH connection. SSH itself only carries one string that
 * the login shell parses, so every argument is single-quoted here; the values are allow-listed
 * paths anyway, this is the second fence.
 */
public final class RemoteCommand {
    private final List<String> parts = new ArrayList<>();

    private RemoteCommand() {}

    /** One program with its arguments. */
    public static RemoteCommand of(List<String> argv) {
        RemoteCommand c = new RemoteCommand();
        c.parts.add(argv.stream().map(RemoteCommand::quote).collect(Collectors.joining(" ")));
        return c;
    }

    public static RemoteCommand of(String... argv) {
        return of(List.of(argv));
    }

    /** Runs {@code next} only when this succeeded. */
    public RemoteCommand and(RemoteCommand next) {
        RemoteCommand c = new RemoteCommand();
        c.parts.add(render() + " && " + next.render());
        return c;
    }

    /** Runs {@code fallback} only when this failed. */
    public RemoteCommand or(RemoteCommand fallback) {
        RemoteCommand c = new RemoteCommand();
        c.parts.add("{ " + render() + " || " + fallback.render() + "; }");
        return c;
    }

    public String render() {
        return String.join(" ", parts);
    }

    @Override
    public String toString() {
        return render();
    }

    /** POSIX single quotes; a quote inside becomes '\'' (close, escaped quote, reopen). */
    public static String quote(String arg) {
        if (arg.indexOf('\0') >= 0 || arg.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("remote argument holds NUL or newline: "
                    + dev.fleet.migration.core.Names.quote(arg));
        }
        if (arg.matches("[a-zA-Z0-9_./=:@%+-]+")) {
            return arg;
        }
        return "'" + arg.replace("'", "'\\''") + "'";
    }
}
