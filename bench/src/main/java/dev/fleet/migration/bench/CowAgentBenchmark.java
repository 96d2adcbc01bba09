package dev.fleet.migration.bench;

import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.Span;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.docker.DockerEndpoint;
import dev.fleet.migration.docker.DockerNodeAgent;
import dev.fleet.migration.storage.cow.PoolKind;
import dev.fleet.migration.transport.SharedDirectoryTransport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Issue 5's speed figures at the level of the node agent: whole migrations through two
 * {@link DockerNodeAgent}s and the orchestrator, between the two real Docker engines, of an app
 * whose named volume lives on a btrfs subvolume (and, separately, a ZFS dataset) of the real pools
 * of scripts/ci/services/pools.sh, the way {@code CowMigrationIT} sets them up: a {@code local}
 * volume bound ({@code type=none, o=bind}) to its own subvolume or dataset, served by busybox
 * {@code httpd} on host networking with a {@code fleet.port} label (the target's health gate).
 * The snapshotter-level figures are migration-storage-cow's {@code CowBenchmark}; these are what
 * an operator sees through the agent.
 *
 * <p>For each pool kind and each of two volume sizes ({@code bench.cowagent.smallMiB}, default
 * 1024, and {@code bench.cowagent.bigMiB}, default 4096; one incompressible file plus an
 * {@code index.html}), {@code bench.cowagent.repeats} rounds (default 3; medians reported), each
 * round measuring, in this order:
 *
 * <ul>
 * <li><b>raw snapshot</b> (baseline of the snapshot step): the pool's own snapshot command of the
 *     same subvolume or dataset, alone ({@code btrfs subvolume snapshot -r}, {@code zfs snapshot}),
 *     spawned from this JVM: the floor under any snapshot the agent takes.</li>
 * <li><b>one container restart</b> (baseline of the downtime): {@code docker stop -t 2} +
 *     {@code docker start} of the app on the source (the CLI, as an operator restarts it, like
 *     {@code CutoverBenchmark}'s T_restart) until its first HTTP 200, polled every 5 ms. Any
 *     move that stops the app on one node and starts it on another costs at least one stop and
 *     one start, and a restart in place does not depend on the volume's size (it is a bind
 *     mount), so it is the honest floor for the cutover and shows the noise of the machine. The
 *     Docker tar path (no pool snapshots) is <i>not</i> used as the baseline: its final delta
 *     holds every file written after the fence whole, so with the change inside the one big file
 *     its downtime grows with the volume by construction. It is measured beside, as information
 *     ({@code bench.cowagent.tarPath}, default true).</li>
 * <li><b>a migration with pool snapshots</b> (the figures). The <i>snapshot step</i> is the time
 *     from the orchestrator submitting SNAPSHOT (the operation's span start) until the agent has
 *     recorded its atomic snapshot of the volume ({@code <migration>.cow-state.json} appears in
 *     the source's archive directory, polled every 0.5 ms; the agent writes it right after the
 *     snapshot and, on ZFS, its read-only view are in place). It holds what the agent does before
 *     the fence (inspecting the app and its volumes, sizing the tree, detecting the pool) and the
 *     snapshot itself, and none of the archive writing that follows (committing and saving the
 *     image, the full native stream or the tar read from the snapshot: that copy grows with the
 *     volume by nature; the whole SNAPSHOT operation's time is printed beside). Once SNAPSHOT has
 *     finished (the app still serving), {@code bench.cowagent.changedMiB} (default 10) MiB of
 *     new random data are written in place into the middle of the big file and fsynced, as a
 *     database would. The <i>cutover downtime</i> is what the migration records
 *     ({@link Migration#downtime()}: from the moment the source's stop signal went out until the
 *     target passed the health gate and the route was switched, as in {@code CowMigrationIT}
 *     and {@code CutoverBenchmark}); a client polling the app every 5 ms prints its own view (the
 *     longest gap between two answers) beside it.</li>
 * <li>optionally the same migration with {@code poolSnapshots(false)} on the source (the Docker
 *     tar path) and its downtime, through a second pair of agents with their own journals.</li>
 * </ul>
 *
 * <p>Where the target puts the volume, {@code bench.cowagent.target}: {@code native} (default:
 * the target has a volume pool of the same kind on the same pool, so the volume travels as a
 * native full stream and the final delta as an incremental one: the design point of issue 5),
 * {@code cross} (a volume pool of the other kind: a tar read from the snapshot, and a portable
 * final delta found by comparing the two snapshots) or {@code plain} (no volume pool on the target:
 * a tar read from the snapshot, restored into a plain volume under the target's data root). The
 * portable delta is file-granular: a file changed after the snapshot travels whole. A round
 * checks from the preflight facts that the volume took the intended path, and fails otherwise.
 *
 * <p>One warm-up migration of the small volume per pool kind runs first and is not counted (class
 * loading, JIT, caches). Figures per pool kind: the snapshot step at both sizes (baseline: the
 * raw snapshot), their ratio (target: big ≤ 1.2 × small, "within 20%"), the cutover downtime at
 * both sizes (baseline: one container restart), their ratio (big ≤ 1.2 × small), and, for
 * information, the tar path's downtime at both sizes.
 *
 * <p>Space: the source pool holds the big volume and the changes; with {@code native} the same
 * pool also receives it (about 2 × big MiB), with {@code cross} the other pool does. The 3G pools
 * of the test services hold a 1 GiB native pair; 4 GiB volumes need
 * {@code FLEET_TEST_POOL_SIZE=12G}. The benchmark checks the free space first and says so. On one
 * host both "nodes" share a disk (and the pools are loop files on it), so work one node leaves
 * running in the background (the kernel freeing a deleted file's blocks, say) can show in the
 * other's figures; on two hosts it would not.
 * It creates everything under {@code <FLEET_TEST_BTRFS_ROOT>/<run>} and
 * {@code <FLEET_TEST_ZFS_POOL>/<run>}, per-run archive directories under
 * {@code FLEET_TEST_ARCHIVE_A/B}, and removes them at the end.
 *
 * <p>Run (as root, with the docker and pools services' variables sourced):
 * <pre>
 * FLEET_TEST_POOL_SIZE=12G bash scripts/ci/services/pools.sh up /tmp/fleet-bench
 * source /tmp/fleet-bench/pools.env; source /tmp/fleet-bench/docker.env   # docker.sh up too
 * java -cp bench/target/classes:$(cat bench/target/bench.classpath) \
 *     -Dorg.slf4j.simpleLogger.defaultLogLevel=warn dev.fleet.migration.bench.CowAgentBenchmark
 * </pre>
 * Other properties: {@code bench.cowagent.kinds} (default {@code btrfs,zfs}),
 * {@code bench.cowagent.change} ({@code inplace}, default: the changed MiB are written into the
 * big file; {@code newfile}: they are a new file), {@code bench.cowagent.warmup} (default true).
 */
public final class CowAgentBenchmark implements Benchmark {
    private static final long MIB = 1024 * 1024;
    private static final NodeId A = NodeId.of("a");
    private static final NodeId B = NodeId.of("b");
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(2);
    private static final double FLAT = 1.2;

    // the services' variables, read in run(): they may be unset when the benchmark is created
    private String dockerA;
    private String dockerB;
    private String image;
    private Path archiveRootA;
    private Path archiveRootB;
    private Path btrfsMount;
    private Path btrfsRoot;
    private String zfsParent;
    private Path zfsMount;

    private final long smallMiB = Long.getLong("bench.cowagent.smallMiB", 1024);
    private final long bigMiB = Long.getLong("bench.cowagent.bigMiB", 4096);
    private final long changedMiB = Long.getLong("bench.cowagent.changedMiB", 10);
    private final int repeats = Integer.getInteger("bench.cowagent.repeats", 3);
    private final String targetMode = System.getProperty("bench.cowagent.target", "native");
    private final String changeMode = System.getProperty("bench.cowagent.change", "inplace");
    private final boolean tarPath = Boolean.parseBoolean(System.getProperty("bench.cowagent.tarPath", "true"));
    private final boolean warmup = Boolean.parseBoolean(System.getProperty("bench.cowagent.warmup", "true"));
    private final List<PoolKind> kinds = Stream.of(System.getProperty("bench.cowagent.kinds", "btrfs,zfs").split(","))
            .map(String::strip).filter(s -> !s.isEmpty()).map(PoolKind::of).toList();

    private final String run = "cowagent-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);
    private final AtomicLong ids = new AtomicLong();
    private final Map<PoolKind, Area> areas = new LinkedHashMap<>();

    @Override
    public String name() {
        return "cowagent";
    }

    public static void main(String[] args) throws Exception {
        CowAgentBenchmark b = new CowAgentBenchmark();
        List<Figure> figures = b.run();
        System.out.println();
        System.out.println(BenchMain.markdown(figures));
        System.exit(figures.stream().allMatch(Figure::met) ? 0 : 1);
    }

    @Override
    public List<String> services() {
        return List.of("docker", "pools");
    }

    @Override
    public List<Figure> run() throws Exception {
        dockerA = BenchApps.env("FLEET_TEST_DOCKER_A");
        dockerB = BenchApps.env("FLEET_TEST_DOCKER_B");
        image = BenchApps.env("FLEET_TEST_IMAGE");
        archiveRootA = Path.of(BenchApps.env("FLEET_TEST_ARCHIVE_A"));
        archiveRootB = Path.of(BenchApps.env("FLEET_TEST_ARCHIVE_B"));
        btrfsMount = Path.of(BenchApps.env("FLEET_TEST_BTRFS_MOUNT"));
        btrfsRoot = Path.of(BenchApps.env("FLEET_TEST_BTRFS_ROOT"));
        zfsParent = BenchApps.env("FLEET_TEST_ZFS_POOL");
        zfsMount = Path.of(BenchApps.env("FLEET_TEST_ZFS_MOUNTPOINT"));
        if (!List.of("native", "cross", "plain").contains(targetMode)) {
            throw new IllegalArgumentException("bench.cowagent.target must be native, cross or plain, not " + targetMode);
        }
        if (!List.of("inplace", "newfile").contains(changeMode)) {
            throw new IllegalArgumentException("bench.cowagent.change must be inplace or newfile, not " + changeMode);
        }
        if (repeats < 1 || smallMiB < 1 || bigMiB <= smallMiB || changedMiB < 1 || changedMiB * 2 > smallMiB) {
            throw new IllegalArgumentException("need repeats ≥ 1, smallMiB < bigMiB, 2 × changedMiB ≤ smallMiB");
        }
        System.out.printf(Locale.ROOT, "cowagent: run %s: %s, %d vs %d MiB, %d MiB changed (%s), target %s, %d repeats%n",
                run, kinds, smallMiB, bigMiB, changedMiB, changeMode, targetMode, repeats);
        List<Figure> figures = new ArrayList<>();
        try {
            for (PoolKind kind : kinds) {
                figures.addAll(measure(kind));
            }
        } finally {
            for (Area a : areas.values()) {
                a.close();
            }
            BenchApps.delete(archiveRootA.resolve(run));
            BenchApps.delete(archiveRootB.resolve(run));
        }
        return figures;
    }

    // ------------------------------------------------------------------ one pool kind

    /** The medians of one size. */
    private record Sample(double step, double raw, double snapshotOp, double downtime, double restart,
                          double clientGap, double tarDowntime) {}

    private List<Figure> measure(PoolKind kind) throws Exception {
        Area source = area(kind);
        PoolKind targetKind = targetMode.equals("cross") ? other(kind) : kind;
        Path targetPool = targetMode.equals("plain") ? null : area(targetKind).poolRoot("pool-b-" + kind.wireName());
        try (Pair cow = new Pair(kind.wireName() + "-cow", true, targetKind, targetPool);
             Pair tar = tarPath ? new Pair(kind.wireName() + "-tar", false, targetKind, targetPool) : null) {
            if (warmup) {
                App app = deploy(source, kind, smallMiB, "w");
                try {
                    Round w = migrate(cow, app, true);
                    System.out.printf(Locale.ROOT, "cowagent: %s warm-up (%d MiB): step %.1f ms, downtime %.0f ms "
                            + "(not counted)%n", kind.wireName(), smallMiB, w.step, w.downtime);
                } finally {
                    teardown(app);
                }
            }
            Sample small = sample(kind, source, cow, tar, smallMiB);
            Sample big = sample(kind, source, cow, tar, bigMiB);
            return figures(kind, targetKind, small, big);
        }
    }

    private Sample sample(PoolKind kind, Area source, Pair cow, Pair tar, long mib) throws Exception {
        checkSpace(kind, source, mib);
        App app = deploy(source, kind, mib, mib + "m");
        List<Double> steps = new ArrayList<>();
        List<Double> raws = new ArrayList<>();
        List<Double> ops = new ArrayList<>();
        List<Double> downs = new ArrayList<>();
        List<Double> restarts = new ArrayList<>();
        List<Double> gaps = new ArrayList<>();
        List<Double> tars = new ArrayList<>();
        try {
            for (int r = 0; r < repeats; r++) {
                raws.add(rawSnapshot(kind, app, r));
                restarts.add(restart(app));
                Round c = migrate(cow, app, true);
                steps.add(c.step);
                ops.add(c.snapshotOp);
                downs.add(c.downtime);
                gaps.add(c.clientGap);
                String tarLine = "";
                if (tar != null) {
                    Round t = migrate(tar, app, false);
                    tars.add(t.downtime);
                    tarLine = String.format(Locale.ROOT, "; tar path: downtime %.0f ms (client gap %.0f ms; %s)",
                            t.downtime, t.clientGap, t.cutover);
                }
                System.out.printf(Locale.ROOT, "cowagent: %s %d MiB, run %d: snapshot step %.1f ms (raw %s snapshot"
                                + " %.1f ms), SNAPSHOT operation %.0f ms; downtime %.0f ms (client gap %.0f ms; %s),"
                                + " restart %.0f ms%s; load %s%n", kind.wireName(), mib, r + 1, c.step, kind.wireName(),
                        raws.get(r), c.snapshotOp, c.downtime, c.clientGap, c.cutover, restarts.get(r), tarLine,
                        load());
            }
        } finally {
            teardown(app);
        }
        Sample s = new Sample(median(steps), median(raws), median(ops), median(downs), median(restarts), median(gaps),
                tars.isEmpty() ? Double.NaN : median(tars));
        System.out.printf(Locale.ROOT, "cowagent: %s %d MiB, medians of %d: snapshot step %.1f ms (raw %.1f ms),"
                        + " SNAPSHOT operation %.0f ms, downtime %.0f ms (client gap %.0f ms), restart %.0f ms,"
                        + " tar-path downtime %.0f ms%n", kind.wireName(), mib, repeats, s.step, s.raw, s.snapshotOp,
                s.downtime, s.clientGap, s.restart, s.tarDowntime);
        return s;
    }

    private List<Figure> figures(PoolKind kind, PoolKind targetKind, Sample small, Sample big) {
        String bench = "cowagent: " + kind.wireName() + switch (targetMode) {
            case "native" -> " → " + targetKind.wireName() + " (native streams)";
            case "cross" -> " → " + targetKind.wireName() + " (tar from the snapshot)";
            default -> " → plain volume (tar from the snapshot)";
        };
        String n = " (median of " + repeats + ")";
        String raw = kind == PoolKind.BTRFS ? "btrfs subvolume snapshot -r alone, median" : "zfs snapshot alone, median";
        String restart = "one container restart (docker stop -t 2 + start until serving), median";
        String flat = "≤ " + FLAT + "× baseline (" + bigMiB + " MiB within 20% of " + smallMiB + " MiB)";
        List<Figure> f = new ArrayList<>();
        f.add(new Figure(bench, "agent snapshot step, " + smallMiB + " MiB volume" + n, small.step, "ms", small.raw, raw,
                "—", true));
        f.add(new Figure(bench, "agent snapshot step, " + bigMiB + " MiB volume" + n, big.step, "ms", big.raw, raw,
                "—", true));
        f.add(new Figure(bench, "agent snapshot step, " + bigMiB + " vs " + smallMiB + " MiB", big.step, "ms",
                small.step, "the " + smallMiB + " MiB volume, same run", flat, big.step <= FLAT * small.step));
        String changed = changedMiB + " MiB changed" + (changeMode.equals("inplace") ? " in place" : " (new file)");
        f.add(new Figure(bench, "cutover downtime, " + changed + ", " + smallMiB + " MiB volume" + n, small.downtime,
                "ms", small.restart, restart, "—", true));
        f.add(new Figure(bench, "cutover downtime, " + changed + ", " + bigMiB + " MiB volume" + n, big.downtime, "ms",
                big.restart, restart, "—", true));
        f.add(new Figure(bench, "cutover downtime, " + changed + ", " + bigMiB + " vs " + smallMiB + " MiB",
                big.downtime, "ms", small.downtime, "the " + smallMiB + " MiB volume, same run", flat,
                big.downtime <= FLAT * small.downtime));
        if (!Double.isNaN(small.tarDowntime)) {
            f.add(new Figure(bench, "downtime without pool snapshots (Docker tar path), " + changed + ", " + smallMiB
                    + " MiB" + n, small.tarDowntime, "ms", small.restart, restart, "— (information)", true));
            f.add(new Figure(bench, "downtime without pool snapshots (Docker tar path), " + changed + ", " + bigMiB
                    + " MiB" + n, big.tarDowntime, "ms", big.restart, restart, "— (information)", true));
        }
        return f;
    }

    // ------------------------------------------------------------------ one migration

    private record Round(double step, double snapshotOp, double downtime, double clientGap, String cutover) {}

    /** Where the cutover's time went: the STOP_SOURCE and START_TARGET operations as the orchestrator saw them. */
    private static String cutover(Migration m) {
        StringBuilder sb = new StringBuilder();
        for (OperationKind k : List.of(OperationKind.STOP_SOURCE, OperationKind.START_TARGET)) {
            Span s = m.operations().get(k);
            if (s != null && s.end().isPresent()) {
                sb.append(sb.length() == 0 ? "" : ", ").append(k.wireName()).append(' ')
                        .append(Duration.between(s.start(), s.end().get()).toMillis()).append(" ms");
            }
        }
        // the agents' own split of it (stop.ms.*, start.ms.*)
        StringBuilder split = new StringBuilder();
        m.facts().entrySet().stream()
                .filter(e -> e.getKey().startsWith("stop.ms.") || e.getKey().startsWith("start.ms."))
                .sorted(Map.Entry.comparingByKey())
                .forEach(e -> split.append(split.length() == 0 ? "" : " ").append(e.getKey().replace(".ms.", "."))
                        .append('=').append(e.getValue()));
        if (split.length() > 0) {
            sb.append(" [").append(split).append(" ms]");
        }
        return sb.toString();
    }

    /** Migrates the app from A to B through {@code pair}, then puts it back on A as it was. */
    private Round migrate(Pair pair, App app, boolean cow) throws Exception {
        MigrationId id = MigrationId.of("m-" + run.substring("cowagent-".length()) + "-" + ids.incrementAndGet());
        pair.next.set(id);
        FileWatch snapshotTaken = cow ? new FileWatch(pair.archiveA.resolve(id.value() + ".cow-state.json")) : null;
        Client client = new Client(app.port);
        Migration m;
        double step = Double.NaN;
        try {
            m = pair.orchestrator.create(app.name, A.value(), B.value());
            if (!m.id().equals(id)) {
                throw new IllegalStateException("the orchestrator chose id " + m.id() + ", not " + id);
            }
            m = advanceUntil(pair.orchestrator, m, x -> x.finished(OperationKind.SNAPSHOT));
            if (m.state() == MigrationState.FAILED || m.isTerminal()) {
                throw new IllegalStateException("migration " + id + " ended in " + m.state() + ": " + m.failure());
            }
            String how = m.facts().getOrDefault("volume." + app.volume + ".transfer", "?");
            String expected = !cow ? "tar (live copy" : targetMode.equals("native") ? "native " : "tar from an atomic";
            if (!how.startsWith(expected)) {
                throw new IllegalStateException("volume " + app.volume + " travels as '" + how + "', expected '"
                        + expected + "...': " + m.facts());
            }
            Span snap = m.operations().get(OperationKind.SNAPSHOT);
            if (cow) {
                Instant seen = snapshotTaken.seen().orElseThrow(() -> new IllegalStateException("the agent recorded "
                        + "no pool snapshot for " + id));
                step = Duration.between(snap.start(), seen).toNanos() / 1e6;
            }
            double snapshotOp = Duration.between(snap.start(), snap.end().orElseThrow()).toNanos() / 1e6;
            change(app);
            m = advanceUntil(pair.orchestrator, m, Migration::isTerminal);
            if (m.state() != MigrationState.DONE) {
                throw new IllegalStateException("migration " + id + " ended in " + m.state() + ": " + m.failure());
            }
            double downtime = m.downtime().orElseThrow().toNanos() / 1e6;
            client.close();
            return new Round(step, snapshotOp, downtime, client.longestGapMillis(), cutover(m));
        } finally {
            client.close();
            if (snapshotTaken != null) {
                snapshotTaken.close();
            }
            reset(pair, app, id);
        }
    }

    private static Migration advanceUntil(Orchestrator o, Migration m, Predicate<Migration> until)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(60).toNanos();
        while (!until.test(m) && !m.isTerminal()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("migration stuck in " + m.state() + ": " + m);
            }
            m = o.advance(m.id());
            if (!until.test(m)) {
                Thread.sleep(20);
            }
        }
        return m;
    }

    /**
     * Writes {@code changedMiB} of new random data and fsyncs it: into the middle of the big file,
     * in place ({@code bench.cowagent.change=inplace}, default), or as a new file ({@code newfile}).
     */
    private void change(App app) throws IOException {
        byte[] block = new byte[(int) MIB];
        Random random = new Random(System.nanoTime());
        boolean inPlace = changeMode.equals("inplace");
        Path file = inPlace ? app.data.resolve("data.bin") : app.data.resolve("changed-" + ids.get() + ".bin");
        try (FileChannel ch = inPlace ? FileChannel.open(file, StandardOpenOption.WRITE)
                : FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
            long at = (ch.size() / 2) & ~(MIB - 1);
            for (long i = 0; i < changedMiB; i++) {
                random.nextBytes(block);
                ByteBuffer buf = ByteBuffer.wrap(block);
                long pos = at + i * MIB;
                while (buf.hasRemaining()) {
                    pos += ch.write(buf, pos);
                }
            }
            ch.force(true);
        }
    }

    /** After a round: the target's copy goes, the source's container and volume come back as deployed. */
    private void reset(Pair pair, App app, MigrationId id) throws Exception {
        for (String host : List.of(dockerA, dockerB)) {
            for (String n : BenchApps.dockerQuietly(host, "ps", "-a", "--format", "{{.Names}}").split("\n")) {
                if (n.equals(app.name) || n.startsWith(app.name + ".migrated-")) {
                    BenchApps.dockerQuietly(host, "rm", "-f", n);
                }
            }
            BenchApps.dockerQuietly(host, "volume", "rm", "-f", app.volume);
            for (String img : BenchApps.dockerQuietly(host, "images", "--format", "{{.Repository}}:{{.Tag}}").split("\n")) {
                if (img.contains(app.name)) {
                    BenchApps.dockerQuietly(host, "rmi", "-f", img);
                }
            }
        }
        if (pair.targetPool != null) {
            Path placed = pair.targetPool.resolve(app.volume + "." + id.value());
            if (Files.exists(placed, LinkOption.NOFOLLOW_LINKS)) {
                area(pair.targetKind).destroyVolume(placed);
            }
        }
        for (Path dir : List.of(pair.archiveA, pair.archiveB)) {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    String f = p.getFileName().toString();
                    if (f.startsWith(id.value() + ".") || f.startsWith("." + id.value() + ".")) {
                        BenchApps.delete(p);
                    }
                }
            }
        }
        for (Area a : areas.values()) {
            a.settle();
        }
        start(app);
    }

    // ------------------------------------------------------------------ baselines

    /** The pool's snapshot command alone, of the app's subvolume or dataset; milliseconds. */
    private double rawSnapshot(PoolKind kind, App app, int round) throws Exception {
        String tag = "bench-raw-" + round;
        if (kind == PoolKind.BTRFS) {
            Path to = app.data.resolveSibling(".bench-raw-" + app.volume + "-" + round);
            long t0 = System.nanoTime();
            sh("btrfs", "subvolume", "snapshot", "-r", "--", app.data.toString(), to.toString());
            double ms = (System.nanoTime() - t0) / 1e6;
            sh("btrfs", "subvolume", "delete", "--", to.toString());
            return ms;
        }
        String snap = app.dataset + "@" + tag;
        long t0 = System.nanoTime();
        sh("zfs", "snapshot", "--", snap);
        double ms = (System.nanoTime() - t0) / 1e6;
        area(kind).destroy(snap, false);
        return ms;
    }

    /** docker stop -t 2 + docker start of the app on the source, until its first 200; milliseconds. */
    private double restart(App app) throws Exception {
        long t0 = System.nanoTime();
        BenchApps.docker(dockerA, "stop", "-t", String.valueOf(STOP_TIMEOUT.toSeconds()), app.name);
        BenchApps.docker(dockerA, "start", app.name);
        awaitServing(app.port, t0);
        return (System.nanoTime() - t0) / 1e6;
    }

    private static void awaitServing(int port, long since) throws InterruptedException {
        long deadline = since + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (Client.get(port)) {
                return;
            }
            Thread.sleep(5);
        }
        throw new IllegalStateException("the app on 127.0.0.1:" + port + " did not answer within 60 s");
    }

    // ------------------------------------------------------------------ the app

    private record App(String name, String volume, Path data, String dataset, int port) {}

    /** A subvolume or dataset filled with {@code mib} MiB, bound to a volume, served on A. */
    private App deploy(Area area, PoolKind kind, long mib, String suffix) throws Exception {
        String name = "cowagent-" + kind.wireName() + "-" + suffix + "-"
                + Long.toString(ThreadLocalRandom.current().nextLong(1L << 20, 1L << 25), 36);
        String volume = name + "-data";
        Path data = area.newVolume(volume);
        String dataset = kind == PoolKind.ZFS ? area.dataset + "/" + volume : null;
        long t0 = System.nanoTime();
        BenchApps.writeFile(data.resolve("data.bin"), mib * MIB, mib);
        Files.writeString(data.resolve("index.html"), "cowagent " + name + "\n");
        BenchApps.sync();
        System.out.printf(Locale.ROOT, "cowagent: filled %s (%d MiB) in %.1f s%n", data, mib,
                (System.nanoTime() - t0) / 1e9);
        App app = new App(name, volume, data, dataset, freePort());
        start(app);
        return app;
    }

    private void start(App app) throws Exception {
        BenchApps.docker(dockerA, "volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt",
                "device=" + app.data, app.volume);
        BenchApps.docker(dockerA, "run", "-d", "--init", "--name", app.name, "--network", "host",
                "--label", "fleet.port=" + app.port, "-v", app.volume + ":/data", image,
                "httpd", "-f", "-p", "127.0.0.1:" + app.port, "-h", "/data");
        awaitServing(app.port, System.nanoTime());
    }

    private void teardown(App app) throws Exception {
        for (String host : List.of(dockerA, dockerB)) {
            for (String n : BenchApps.dockerQuietly(host, "ps", "-a", "--format", "{{.Names}}").split("\n")) {
                if (n.equals(app.name) || n.startsWith(app.name + ".migrated-")) {
                    BenchApps.dockerQuietly(host, "rm", "-f", n);
                }
            }
            BenchApps.dockerQuietly(host, "volume", "rm", "-f", app.volume);
        }
        for (Area a : areas.values()) {
            if (app.data.startsWith(a.dir)) {
                a.destroyVolume(app.data);
                a.settle();
            }
        }
    }

    private void checkSpace(PoolKind kind, Area source, long mib) throws IOException {
        long margin = 256 * MIB + changedMiB * MIB * (repeats + 2L);
        boolean sameFs = targetMode.equals("native");
        long needSource = mib * MIB * (sameFs ? 2 : 1) + margin;
        long free = source.usable();
        if (free < needSource) {
            throw new IllegalStateException(String.format(Locale.ROOT, "the %s pool has %d MiB free but %d MiB volumes"
                    + " with target %s need about %d MiB: bring the pools up with a bigger FLEET_TEST_POOL_SIZE"
                    + " (12G for 4096 MiB) or lower bench.cowagent.bigMiB", kind.wireName(), free / MIB, mib,
                    targetMode, needSource / MIB));
        }
        if (targetMode.equals("cross")) {
            Area t = area(other(kind));
            if (t.usable() < mib * MIB + margin) {
                throw new IllegalStateException("the " + other(kind).wireName() + " pool has " + t.usable() / MIB
                        + " MiB free, too little to receive " + mib + " MiB volumes");
            }
        }
    }

    private static PoolKind other(PoolKind kind) {
        return kind == PoolKind.BTRFS ? PoolKind.ZFS : PoolKind.BTRFS;
    }

    /** The 1-minute load average, as uptime shows it. */
    private static String load() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static double median(List<Double> values) {
        return DockerBenchmark.median(values);
    }

    // ------------------------------------------------------------------ agents

    /** Agents for A (source) and B (target) with journals of their own, and an orchestrator. */
    private final class Pair implements AutoCloseable {
        final Path archiveA;
        final Path archiveB;
        final PoolKind targetKind;
        final Path targetPool;
        final DockerNodeAgent a;
        final DockerNodeAgent b;
        final Orchestrator orchestrator;
        final AtomicReference<MigrationId> next = new AtomicReference<>();

        Pair(String label, boolean poolSnapshots, PoolKind targetKind, Path targetPool) throws IOException {
            this.archiveA = Files.createDirectories(archiveRootA.resolve(run).resolve(label));
            this.archiveB = Files.createDirectories(archiveRootB.resolve(run).resolve(label));
            this.targetKind = targetKind;
            this.targetPool = targetPool;
            DockerNodeAgent.Builder ab = DockerNodeAgent.builder().node(A).docker(DockerEndpoint.unix(dockerA))
                    .archiveDirectory(archiveA).transport(SharedDirectoryTransport.builder().build())
                    .peer(B, new DockerNodeAgent.Peer(new Endpoint("127.0.0.1", 22, "root"), archiveB.toString()))
                    .poolSnapshots(poolSnapshots).stopTimeout(STOP_TIMEOUT).probeHostPorts(false);
            DockerNodeAgent.Builder bb = DockerNodeAgent.builder().node(B).docker(DockerEndpoint.unix(dockerB))
                    .archiveDirectory(archiveB).transport(SharedDirectoryTransport.builder().build())
                    .peer(A, new DockerNodeAgent.Peer(new Endpoint("127.0.0.1", 22, "root"), archiveA.toString()))
                    .stopTimeout(STOP_TIMEOUT).probeHostPorts(false);
            if (targetPool != null) {
                ab.peerVolumePool(B, targetKind);
                bb.volumePool(targetKind, targetPool);
            }
            this.a = ab.build();
            this.b = bb.build();
            this.orchestrator = Orchestrator.builder().store(new InMemoryMigrationStore()).node(a).node(b)
                    .ids(() -> next.getAndSet(null))
                    .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ZERO)
                            .withStepTimeout(Duration.ofMinutes(30)).withHealthDeadline(Duration.ofSeconds(60)))
                    .build();
        }

        @Override
        public void close() {
            a.close();
            b.close();
        }
    }

    // ------------------------------------------------------------------ pools

    private Area area(PoolKind kind) throws IOException {
        Area a = areas.get(kind);
        if (a == null) {
            a = kind == PoolKind.BTRFS ? Area.btrfs(btrfsRoot.resolve(run), btrfsMount)
                    : Area.zfs(zfsParent + "/" + run, zfsMount.resolve(run));
            areas.put(kind, a);
        }
        return a;
    }

    /** This run's part of one pool: a directory on the btrfs, or a dataset on the ZFS pool. */
    private static final class Area implements AutoCloseable {
        final PoolKind kind;
        final Path dir;
        final String dataset;
        final Path btrfsMount;

        private Area(PoolKind kind, Path dir, String dataset, Path btrfsMount) {
            this.kind = kind;
            this.dir = dir;
            this.dataset = dataset;
            this.btrfsMount = btrfsMount;
        }

        static Area btrfs(Path dir, Path mount) throws IOException {
            if (!"btrfs".equals(Files.getFileStore(dir.getParent()).type())) {
                throw new IllegalStateException(dir.getParent() + " is not on btrfs: are the pools up?");
            }
            return new Area(PoolKind.BTRFS, Files.createDirectories(dir), null, mount);
        }

        static Area zfs(String dataset, Path mountpoint) {
            sh("zfs", "create", "--", dataset);
            if (!Files.isDirectory(mountpoint)) {
                throw new IllegalStateException("dataset " + dataset + " is not mounted at " + mountpoint);
            }
            return new Area(PoolKind.ZFS, mountpoint, dataset, null);
        }

        /** A fresh subvolume or dataset {@code leaf}; returns its path. */
        Path newVolume(String leaf) throws IOException {
            if (kind == PoolKind.BTRFS) {
                Path at = Files.createDirectories(dir.resolve("src")).resolve(leaf);
                sh("btrfs", "subvolume", "create", "--", at.toString());
                return at;
            }
            sh("zfs", "create", "--", dataset + "/" + leaf);
            Path at = dir.resolve(leaf);
            if (!Files.isDirectory(at)) {
                throw new IllegalStateException("dataset " + dataset + "/" + leaf + " is not mounted at " + at);
            }
            return at;
        }

        /** A target's volume pool root: a directory on the btrfs, a dataset of its own on ZFS. */
        Path poolRoot(String leaf) throws IOException {
            if (kind == PoolKind.BTRFS) {
                return Files.createDirectories(dir.resolve(leaf));
            }
            if (!Files.isDirectory(dir.resolve(leaf))) {
                sh("zfs", "create", "--", dataset + "/" + leaf);
            }
            return dir.resolve(leaf);
        }

        void destroyVolume(Path at) {
            if (kind == PoolKind.BTRFS) {
                sh("btrfs", "subvolume", "delete", "--", at.toString());
                return;
            }
            String rel = dir.relativize(at).toString();
            destroy(dataset + "/" + rel, true);
        }

        /** zfs destroy, retried while zfs-fuse still reports a just-unmounted dataset busy. */
        void destroy(String name, boolean recursive) {
            for (int attempt = 1; ; attempt++) {
                try {
                    if (recursive) {
                        sh("zfs", "destroy", "-R", "--", name);
                    } else {
                        sh("zfs", "destroy", "--", name);
                    }
                    return;
                } catch (IllegalStateException busy) {
                    if (attempt == 30) {
                        throw busy;
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(300));
                }
            }
        }

        /** Waits until btrfs has really freed deleted subvolumes, so the next round finds the space. */
        void settle() {
            if (kind == PoolKind.BTRFS) {
                sh("btrfs", "subvolume", "sync", "--", btrfsMount.toString());
                sh("btrfs", "filesystem", "sync", "--", btrfsMount.toString()); // the freed space shows once committed
            }
        }

        long usable() throws IOException {
            return Files.getFileStore(dir).getUsableSpace();
        }

        @Override
        public void close() {
            try {
                if (kind == PoolKind.ZFS) {
                    destroy(dataset, true);
                    return;
                }
                List<Path> subvolumes;
                try (Stream<Path> s = Files.walk(dir)) {
                    subvolumes = s.filter(p -> !p.equals(dir) && isSubvolume(p)).sorted(Comparator.reverseOrder()).toList();
                }
                for (Path p : subvolumes) {
                    try {
                        sh("btrfs", "subvolume", "delete", "--", p.toString());
                    } catch (IllegalStateException e) {
                        System.err.println("cowagent: " + e.getMessage());
                    }
                }
                BenchApps.delete(dir);
                settle();
            } catch (IOException | RuntimeException e) {
                System.err.println("cowagent: could not remove " + (dataset != null ? dataset : dir) + ": " + e);
            }
        }

        private static boolean isSubvolume(Path p) {
            try {
                return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
                        && (Long) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS) == 256L;
            } catch (IOException e) {
                return false;
            }
        }
    }

    static String sh(String... argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", argv) + " failed: " + out.strip());
            }
            return out.strip();
        } catch (IOException e) {
            throw new IllegalStateException("could not run " + List.of(argv) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ observers

    /** Notes the instant a file appears, polling every 0.5 ms on a thread of its own. */
    private static final class FileWatch implements AutoCloseable {
        private final Path file;
        private final Thread thread;
        private volatile Instant seen;
        private volatile boolean stop;

        FileWatch(Path file) {
            this.file = file;
            this.thread = new Thread(this::watch, "cowagent-watch");
            thread.setDaemon(true);
            thread.start();
        }

        private void watch() {
            while (!stop) {
                if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                    seen = Instant.now();
                    return;
                }
                LockSupport.parkNanos(500_000);
            }
        }

        java.util.Optional<Instant> seen() throws InterruptedException {
            thread.join(TimeUnit.SECONDS.toMillis(5));
            return java.util.Optional.ofNullable(seen);
        }

        @Override
        public void close() {
            stop = true;
        }
    }

    /** GETs /index.html every 5 ms and keeps the longest gap between two answers. */
    private static final class Client implements AutoCloseable {
        private final int port;
        private final Thread thread;
        private volatile boolean stop;
        private long last = -1;
        private volatile long longest;

        Client(int port) {
            this.port = port;
            this.thread = new Thread(this::poll, "cowagent-client");
            thread.setDaemon(true);
            thread.start();
        }

        private void poll() {
            while (!stop) {
                if (get(port)) {
                    long now = System.nanoTime();
                    if (last >= 0) {
                        longest = Math.max(longest, now - last);
                    }
                    last = now;
                }
                LockSupport.parkNanos(5_000_000);
            }
        }

        static boolean get(int port) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                s.setSoTimeout(500);
                OutputStream out = s.getOutputStream();
                out.write("GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                byte[] head = new byte[12];
                int n = 0;
                while (n < head.length) {
                    int r = in.read(head, n, head.length - n);
                    if (r < 0) {
                        break;
                    }
                    n += r;
                }
                return n == head.length && new String(head, StandardCharsets.US_ASCII).startsWith("HTTP/1.")
                        && new String(head, StandardCharsets.US_ASCII).endsWith("200");
            } catch (IOException e) {
                return false;
            }
        }

        double longestGapMillis() {
            return longest / 1e6;
        }

        @Override
        public void close() throws InterruptedException {
            stop = true;
            thread.join(2000);
        }
    }
}
