package dev.fleet.migration.http.resilience;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** The docker CLI against one of the test engines, and what the resilience tests read from it. */
final class Docker {
    private Docker() {}

    static String run(String host, String... args) {
        List<String> cmd = new ArrayList<>(List.of("docker", "-H", host));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("could not run " + cmd + ": " + e, e);
        }
    }

    /** Where the agent next to this engine stages restores: {@code <DockerRootDir>/fleet-staging}. */
    static Path stagingRoot(String host) {
        return Path.of(run(host, "info", "--format", "{{.DockerRootDir}}")).resolve("fleet-staging");
    }

    static String quietly(String host, String... args) {
        try {
            return run(host, args);
        } catch (AssertionError e) {
            return "";
        }
    }

    /** The names of the app's running containers (the app itself or a retired copy of it). */
    static List<String> running(String host, String app) {
        List<String> out = new ArrayList<>();
        for (String n : run(host, "ps", "--filter", "name=" + app, "--format", "{{.Names}}").split("\n")) {
            if (n.equals(app) || n.startsWith(app + ".")) {
                out.add(n);
            }
        }
        return out;
    }

    /**
     * What a node holds of one app: each container of it (name, running, restart policy, the
     * migration label) and each volume of it with the sha256 of its content. Two equal views
     * mean the node is back where it was.
     */
    static TreeMap<String, String> view(String host, String app) {
        TreeMap<String, String> view = new TreeMap<>();
        for (String line : run(host, "ps", "-a", "--filter", "name=" + app, "--format", "{{.Names}}").split("\n")) {
            if (!(line.equals(app) || line.startsWith(app + "."))) {
                continue;
            }
            view.put("container " + line, run(host, "inspect", "--format",
                    "running={{.State.Running}} restart={{.HostConfig.RestartPolicy.Name}}"
                            + " migration={{index .Config.Labels \"dev.fleet.migration.id\"}}", line));
        }
        for (String v : run(host, "volume", "ls", "-q", "--filter", "name=" + app).split("\n")) {
            if (v.equals(app + "-data")) {
                view.put("volume " + v, volumeHash(host, v));
            }
        }
        return view;
    }

    private static boolean ofApp(String name, java.util.Collection<String> apps) {
        for (String app : apps) {
            if (name.equals(app) || name.startsWith(app + ".")) {
                return true;
            }
        }
        return false;
    }

    private static String appOf(String name, java.util.Collection<String> apps) {
        for (String app : apps) {
            if (name.equals(app) || name.startsWith(app + ".") || name.equals(app + "-data")) {
                return app;
            }
        }
        return null;
    }

    /** {@link #view} for many apps at once, in four docker calls whatever their number. */
    static java.util.Map<String, TreeMap<String, String>> views(String host, java.util.Collection<String> apps) {
        java.util.Map<String, TreeMap<String, String>> out = new java.util.HashMap<>();
        apps.forEach(a -> out.put(a, new TreeMap<>()));
        List<String> names = new ArrayList<>();
        for (String n : run(host, "ps", "-a", "--format", "{{.Names}}").split("\n")) {
            if (ofApp(n, apps)) {
                names.add(n);
            }
        }
        if (!names.isEmpty()) {
            List<String> args = new ArrayList<>(List.of("inspect", "--format",
                    "{{.Name}} running={{.State.Running}} restart={{.HostConfig.RestartPolicy.Name}}"
                            + " migration={{index .Config.Labels \"dev.fleet.migration.id\"}}"));
            args.addAll(names);
            for (String line : run(host, args.toArray(String[]::new)).split("\n")) {
                int sp = line.indexOf(' ');
                String name = line.substring(0, sp).replaceFirst("^/", "");
                out.get(appOf(name, apps)).put("container " + name, line.substring(sp + 1));
            }
        }
        List<String> volumes = new ArrayList<>();
        for (String v : run(host, "volume", "ls", "-q").split("\n")) {
            String app = appOf(v, apps);
            if (app != null && v.equals(app + "-data")) {
                volumes.add(v);
            }
        }
        if (!volumes.isEmpty()) {
            List<String> args = new ArrayList<>(List.of("volume", "inspect", "--format", "{{.Name}} {{.Mountpoint}}"));
            args.addAll(volumes);
            for (String line : run(host, args.toArray(String[]::new)).split("\n")) {
                int sp = line.indexOf(' ');
                String v = line.substring(0, sp);
                out.get(appOf(v, apps)).put("volume " + v, hash(Path.of(line.substring(sp + 1))));
            }
        }
        return out;
    }

    /** Removes every container and the volume of the apps from an engine, in three docker calls. */
    static void removeApps(String host, java.util.Collection<String> apps) {
        List<String> names = new ArrayList<>();
        for (String n : quietly(host, "ps", "-a", "--format", "{{.Names}}").split("\n")) {
            if (ofApp(n, apps)) {
                names.add(n);
            }
        }
        if (!names.isEmpty()) {
            List<String> args = new ArrayList<>(List.of("rm", "-f"));
            args.addAll(names);
            quietly(host, args.toArray(String[]::new));
        }
        List<String> args = new ArrayList<>(List.of("volume", "rm", "-f"));
        apps.forEach(a -> args.add(a + "-data"));
        quietly(host, args.toArray(String[]::new));
    }

    /** The sha256 over every file's relative path and content in a volume. */
    static String volumeHash(String host, String volume) {
        return hash(Path.of(run(host, "volume", "inspect", "--format", "{{.Mountpoint}}", volume)));
    }

    static String hash(Path mp) {
        try (Stream<Path> files = Files.walk(mp)) {
            MessageDigest all = MessageDigest.getInstance("SHA-256");
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                all.update(mp.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
                all.update((byte) 0);
                try (InputStream in = Files.newInputStream(f)) {
                    byte[] buf = new byte[65536];
                    for (int r; (r = in.read(buf)) > 0; ) {
                        all.update(buf, 0, r);
                    }
                }
            }
            return HexFormat.of().formatHex(all.digest());
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new AssertionError("cannot hash the volume at " + mp + ": " + e, e);
        }
    }

    /** Removes every container and the volume of the app from an engine. */
    static void removeApp(String host, String app) {
        for (String n : quietly(host, "ps", "-a", "--filter", "name=" + app, "--format", "{{.Names}}").split("\n")) {
            if (n.equals(app) || n.startsWith(app + ".")) {
                quietly(host, "rm", "-f", n);
            }
        }
        quietly(host, "volume", "rm", "-f", app + "-data");
    }
}
