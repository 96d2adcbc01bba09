package dev.fleet.migration.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.core.OrchestratorSettings;
import dev.fleet.migration.core.memory.InMemoryMigrationStore;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.docker.archive.Manifest;
import dev.fleet.migration.docker.archive.TreeFingerprint;
import dev.fleet.migration.docker.cow.CowStorage;
import dev.fleet.migration.docker.cow.SourceSession;
import dev.fleet.migration.docker.cow.VolumeBackend;
import dev.fleet.migration.storage.cow.PoolKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Whole migrations of apps whose volumes live on btrfs or ZFS, between the two real Docker
 * engines, with the real pools of scripts/ci/services/pools.sh (pools.env). Every volume here is
 * a {@code local} bind volume on its own subvolume or dataset, the way operators put volumes on
 * a pool; targets place restored volumes in a volume pool of their own. A missing pool or engine
 * fails the test (never skips it).
 */
@DisplayName("Migrations of volumes on btrfs and ZFS between two real Docker engines")
class CowMigrationIT {
    static final NodeId A = TestNodes.A;
    static final NodeId B = TestNodes.B;

    private static String run;
    private static Path btrfsRun;
    private static String zfsRun;
    private static Path zfsRunMount;

    private final String dockerA = TestNodes.env("FLEET_TEST_DOCKER_A");
    private final String dockerB = TestNodes.env("FLEET_TEST_DOCKER_B");
    private final String image = TestNodes.env("FLEET_TEST_IMAGE");
    private final List<String[]> cleanup = new ArrayList<>();
    private DockerNodeAgent a;
    private DockerNodeAgent b;
    private Orchestrator orchestrator;
    private Path poolB;

    static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            fail("environment variable " + name + " is not set" + ("true".equals(System.getenv("CI")) ? " (CI=true)" : "")
                    + ": these tests run on real btrfs and ZFS pools. Run scripts/test.sh, or as root: "
                    + "bash scripts/ci/services/pools.sh up /tmp/fleet-test && source /tmp/fleet-test/pools.env");
        }
        return v;
    }

    @BeforeAll
    static void pools() throws IOException {
        run = "cowit-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);
        Path root = Path.of(env("FLEET_TEST_BTRFS_ROOT"));
        if (!"btrfs".equals(Files.getFileStore(root).type())) {
            fail("FLEET_TEST_BTRFS_ROOT=" + root + " is not on btrfs: are the pools up?");
        }
        btrfsRun = Files.createDirectories(root.resolve(run));
        zfsRun = env("FLEET_TEST_ZFS_POOL") + "/" + run;
        sh("zfs", "create", "--", zfsRun);
        zfsRunMount = Path.of(env("FLEET_TEST_ZFS_MOUNTPOINT")).resolve(run);
        if (!Files.isDirectory(zfsRunMount)) {
            fail("dataset " + zfsRun + " is not mounted at " + zfsRunMount);
        }
    }

    @AfterAll
    static void dropPools() throws IOException {
        for (String archive : List.of("FLEET_TEST_ARCHIVE_A", "FLEET_TEST_ARCHIVE_B")) { // kept archives, journals
            shQuietly("rm", "-rf", "--", Path.of(TestNodes.env(archive)).resolve(run).toString());
        }
        if (zfsRun != null) {
            // -R: with clones of its snapshots a failed test left; zfs-fuse reports a dataset busy
            // for a moment after a container's bind mount of it went away
            for (int attempt = 1; ; attempt++) {
                try {
                    sh("zfs", "destroy", "-R", "--", zfsRun);
                    break;
                } catch (AssertionError busy) {
                    if (attempt == 20) {
                        throw busy;
                    }
                    try {
                        Thread.sleep(500);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw busy;
                    }
                }
            }
        }
        if (btrfsRun != null && Files.isDirectory(btrfsRun)) {
            List<Path> subvolumes;
            try (Stream<Path> s = Files.walk(btrfsRun)) {
                subvolumes = s.filter(p -> !p.equals(btrfsRun) && isSubvolume(p)).sorted((x, y) -> y.compareTo(x)).toList();
            }
            for (Path p : subvolumes) {
                shQuietly("btrfs", "subvolume", "delete", "--", p.toString());
            }
            shQuietly("rm", "-rf", "--", btrfsRun.toString());
        }
    }

    private static boolean isSubvolume(Path p) {
        try {
            return Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                    && (Long) Files.getAttribute(p, "unix:ino", java.nio.file.LinkOption.NOFOLLOW_LINKS) == 256L;
        } catch (IOException e) {
            return false;
        }
    }

    /** Agents for A (source) and B (target), B with a volume pool of {@code kind}, which A knows. */
    private void nodes(PoolKind kind) throws IOException {
        Path archiveA = Files.createDirectories(Path.of(TestNodes.env("FLEET_TEST_ARCHIVE_A")).resolve(run));
        Path archiveB = Files.createDirectories(Path.of(TestNodes.env("FLEET_TEST_ARCHIVE_B")).resolve(run));
        if (kind == PoolKind.BTRFS) {
            poolB = Files.createDirectories(btrfsRun.resolve("pool-" + unique("b")));
        } else {
            String ds = zfsRun + "/" + unique("pool");
            sh("zfs", "create", "--", ds);
            poolB = zfsRunMount.resolve(ds.substring(zfsRun.length() + 1));
        }
        a = DockerNodeAgent.builder().node(A).docker(DockerEndpoint.unix(dockerA)).archiveDirectory(archiveA)
                .transport(new LocalCopyTransport())
                .peer(B, new DockerNodeAgent.Peer(new Endpoint("127.0.0.1", 22, "root"), archiveB.toString()))
                .peerVolumePool(B, kind)
                .stopTimeout(Duration.ofSeconds(2)).probeHostPorts(false).build();
        b = DockerNodeAgent.builder().node(B).docker(DockerEndpoint.unix(dockerB)).archiveDirectory(archiveB)
                .transport(new LocalCopyTransport())
                .peer(A, new DockerNodeAgent.Peer(new Endpoint("127.0.0.1", 22, "root"), archiveA.toString()))
                .volumePool(kind, poolB)
                .stopTimeout(Duration.ofSeconds(2)).probeHostPorts(false).build();
        orchestrator = Orchestrator.builder().store(new InMemoryMigrationStore()).node(a).node(b)
                .settings(OrchestratorSettings.DEFAULTS.withSchedulerInterval(Duration.ZERO)
                        .withStepTimeout(Duration.ofMinutes(2)).withHealthDeadline(Duration.ofSeconds(30)))
                .build();
    }

    @AfterEach
    void tearDown() {
        for (NodeId n : List.of(A, B)) {
            for (String[] c : cleanup) {
                if (c[0].equals("container")) {
                    for (String name : docker(n, "ps", "-a", "--format", "{{.Names}}").split("\n")) {
                        if (name.equals(c[1]) || name.startsWith(c[1] + ".migrated-")) {
                            dockerQuietly(n, "rm", "-f", name);
                        }
                    }
                }
            }
            for (String[] c : cleanup) {
                if (c[0].equals("volume")) {
                    dockerQuietly(n, "volume", "rm", "-f", c[1]);
                }
                if (c[0].equals("container")) { // the images the migrations committed and loaded
                    for (String ref : docker(n, "images", "--format", "{{.Repository}}:{{.Tag}}").split("\n")) {
                        if (ref.startsWith("fleet-migration/" + c[1] + ":")) {
                            dockerQuietly(n, "rmi", ref);
                        }
                    }
                }
            }
        }
        if (a != null) {
            a.close();
            b.close();
        }
    }

    // ------------------------------------------------------------------ the scenarios

    @Test
    @DisplayName("btrfs to ZFS: the volume travels as a tar read from an atomic snapshot, late writes by the final delta")
    void migratesFromBtrfsToZfsThroughPortableTar() throws Exception {
        nodes(PoolKind.ZFS);
        Migration done = migrateWithLateWrites(PoolKind.BTRFS, "tar from an atomic btrfs snapshot");
        assertThat(Files.exists(b.archiveDirectory().resolve(done.id().value() + ".cow-full.json"))).isFalse();
    }

    @Test
    @DisplayName("ZFS to btrfs: the volume travels as a tar read from an atomic snapshot, late writes by the final delta")
    void migratesFromZfsToBtrfsThroughPortableTar() throws Exception {
        nodes(PoolKind.BTRFS);
        Migration done = migrateWithLateWrites(PoolKind.ZFS, "tar from an atomic zfs snapshot");
        assertThat(Files.exists(b.archiveDirectory().resolve(done.id().value() + ".cow-full.json"))).isFalse();
    }

    @Test
    @DisplayName("btrfs to btrfs: a native full stream, then an incremental stream as the final delta")
    void migratesFromBtrfsToBtrfsWithNativeStreams() throws Exception {
        nodes(PoolKind.BTRFS);
        Migration done = migrateWithLateWrites(PoolKind.BTRFS, "native btrfs send stream");
        String id = done.id().value();
        for (String f : List.of(".cow-full.json", ".cow-delta.json")) {
            assertThat(b.archiveDirectory().resolve(id + f)).as("the list of native streams").isRegularFile();
        }
        JsonNode full = Manifest.JSON.readTree(b.archiveDirectory().resolve(id + ".cow-full.json").toFile());
        JsonNode delta = Manifest.JSON.readTree(b.archiveDirectory().resolve(id + ".cow-delta.json").toFile());
        long fullSize = full.at("/streams/0/size").asLong();
        long deltaSize = delta.at("/streams/0/size").asLong();
        assertThat(full.at("/streams/0/kind").asText()).isEqualTo("btrfs");
        // the tree holds ~5 MiB; the late writes change a few KiB: the incremental stream is small
        assertThat(fullSize).isGreaterThan(4L << 20);
        assertThat(deltaSize).isLessThan(fullSize / 10);
        // the archive's entry for the volume is only a stub: the data went natively
        assertThat(Files.size(b.archiveDirectory().resolve(id + ".tar"))).isLessThan(fullSize);
    }

    @Test
    @DisplayName("a native receive that fails on the target leaves no subvolume behind, and the source runs on")
    void failedReceiveLeavesNoPartialSubvolume() throws Exception {
        nodes(PoolKind.BTRFS);
        App app = deploy(PoolKind.BTRFS);
        String poolBefore = btrfsInventory(poolB);
        Migration m = orchestrator.create(app.name, A.value(), B.value());
        m = advanceUntil(m, x -> x.finished(OperationKind.TRANSFER));
        assertThat(m.state()).as("failure: %s", m.failure()).isNotEqualTo(MigrationState.FAILED);
        // cut the native stream in half; the list says the cut stream is what was sent, so the
        // sha256 check passes and btrfs receive itself meets the broken stream
        Path stream = b.archiveDirectory().resolve(m.id().value() + ".cow-" + app.volume + ".full");
        Path list = b.archiveDirectory().resolve(m.id().value() + ".cow-full.json");
        byte[] bytes = Files.readAllBytes(stream);
        byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length / 2);
        Files.write(stream, cut);
        ObjectNode l = (ObjectNode) Manifest.JSON.readTree(list.toFile());
        ((ObjectNode) l.get("streams").get(0)).put("sha256", sha256(cut)).put("size", cut.length);
        Files.write(list, Manifest.JSON.writeValueAsBytes(l));

        m = advanceUntil(m, Migration::isTerminal);

        assertThat(m.state()).isEqualTo(MigrationState.FAILED);
        assertThat(m.failure().map(f -> f.reason()).orElse("")).contains("restore");
        assertThat(btrfsInventory(poolB)).as("subvolumes in the target pool").isEqualTo(poolBefore);
        try (Stream<Path> s = Files.list(poolB)) {
            assertThat(s.filter(p -> !p.getFileName().toString().equals(".fleet-received")).toList()).isEmpty();
        }
        assertThat(docker(B, "volume", "ls", "-q").lines().toList()).doesNotContain(app.volume);
        assertNoSnapshotsLeft(m.id(), app);
        assertThat(docker(A, "inspect", "--format", "{{.State.Running}}", app.name)).isEqualTo("true");
        TestNodes.assertServes(app.port, "/index.html", "before");
    }

    @Test
    @DisplayName("an abort after the restore removes the target's dataset and the source's snapshots")
    void abortRemovesTargetDatasetAndSourceSnapshots() throws Exception {
        nodes(PoolKind.ZFS);
        App app = deploy(PoolKind.BTRFS);
        String zfsBefore = zfsInventory();
        Migration m = orchestrator.create(app.name, A.value(), B.value());
        // the tick that finishes TRANSFER submits RESTORE and returns; no tick follows until we ask
        m = advanceUntil(m, x -> x.finished(OperationKind.TRANSFER));
        assertThat(m.state()).as("failure: %s", m.failure()).isEqualTo(MigrationState.RESTORING);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!docker(B, "volume", "ls", "-q").lines().toList().contains(app.volume) && System.nanoTime() < until) {
            Thread.sleep(100);
        }
        assertThat(zfsInventory()).as("the restore made a dataset in the pool").contains(app.volume + "." + m.id().value());
        assertThat(Files.exists(snapshotPath(app, m.id()))).as("the first snapshot exists while migrating").isTrue();

        m = orchestrator.fail(m.id(), "operator abort in a test");

        assertThat(m.state()).isEqualTo(MigrationState.FAILED);
        assertThat(zfsInventory()).isEqualTo(zfsBefore);
        assertThat(docker(B, "volume", "ls", "-q").lines().toList()).doesNotContain(app.volume);
        assertNoSnapshotsLeft(m.id(), app);
        assertThat(docker(A, "inspect", "--format", "{{.State.Running}}", app.name)).isEqualTo("true");
        TestNodes.assertServes(app.port, "/index.html", "before");
    }

    @Test
    @DisplayName("the agent's snapshot of a volume a running app writes in lockstep shows both files at one instant")
    void snapshotOfRunningLockstepWriterIsPointInTime() throws Exception {
        nodes(PoolKind.BTRFS);
        String name = unique("cow-lock");
        String volume = name + "-data";
        String dataset = zfsRun + "/" + volume;
        sh("zfs", "create", "--", dataset);
        Path source = zfsRunMount.resolve(volume);
        cleanup.add(new String[] {"container", name});
        cleanup.add(new String[] {"volume", volume});
        docker(A, "volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device=" + source, volume);
        // the writer appends the same counter to a.txt, then to b.txt: at any one instant b lags by at most one
        docker(A, "run", "-d", "--name", name, "--network", "none", "-v", volume + ":/data", image, "sh", "-c",
                "i=0; while true; do i=$((i+1)); echo $i >> /data/a.txt; echo $i >> /data/b.txt; done");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (lines(source.resolve("b.txt")) < 200 && System.nanoTime() < until) {
            Thread.sleep(50);
        }
        Migration m = orchestrator.create(name, A.value(), B.value());
        m = advanceUntil(m, x -> x.finished(OperationKind.SNAPSHOT));
        assertThat(m.state()).as("failure: %s", m.failure()).isNotEqualTo(MigrationState.FAILED);

        Path snapshot = source.getParent().resolve(".fleet-snapshots").resolve(volume + "@" + m.id().value() + "-first");
        long a = lines(snapshot.resolve("a.txt"));
        long b = lines(snapshot.resolve("b.txt"));
        assertThat(a).as("the writer had been running").isGreaterThan(100);
        assertThat(a - b).as("a.txt has %d lines, b.txt %d: one instant", a, b).isBetween(0L, 1L);
        assertThat(lines(source.resolve("b.txt"))).as("the app kept writing: never stopped or paused").isGreaterThan(b);

        m = orchestrator.fail(m.id(), "enough seen");
        assertThat(m.state()).isEqualTo(MigrationState.FAILED);
        assertThat(snapshot).doesNotExist();
        assertThat(sh("zfs", "list", "-H", "-o", "name", "-t", "snapshot", "-r", "--", dataset)).isEmpty();
        assertThat(docker(A, "inspect", "--format", "{{.State.Running}}", name)).isEqualTo("true");
        docker(A, "rm", "-f", name);
    }

    private static long lines(Path file) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        try (Stream<String> s = Files.lines(file)) {
            return s.count();
        }
    }

    @Test
    @DisplayName("the retention sweep drops the received bases an ended migration left in the pool, never an active one's")
    void retentionSweepDropsReceivedBasesOfEndedMigrations() throws Exception {
        nodes(PoolKind.BTRFS);
        // as an agent stopped between the target's health gate and its release of the bases leaves them
        MigrationId ended = MigrationId.of("m-" + unique("ended"));
        MigrationId active = MigrationId.of("m-" + unique("active"));
        Map<MigrationId, Path> bases = new java.util.LinkedHashMap<>();
        for (MigrationId m : List.of(ended, active)) {
            Path placed = subvolume(poolB.resolve("data." + m.value()));
            Files.writeString(placed.resolve("kept.txt"), "the volume itself");
            Path base = Files.createDirectories(poolB.resolve(".fleet-received").resolve("data." + m.value())
                    .resolve("1-abcdef12"));
            sh("btrfs", "subvolume", "snapshot", "-r", "--", placed.toString(), base.resolve("received").toString());
            bases.put(m, base);
        }

        b.sweepArchives(java.time.Instant.now(), java.util.Set.of(active));

        assertThat(bases.get(ended)).as("the ended migration's base").doesNotExist();
        assertThat(poolB.resolve("data." + ended.value()).resolve("kept.txt")).as("its volume").hasContent("the volume itself");
        assertThat(bases.get(active).resolve("received")).as("the active migration's base").isDirectory();
        assertThat(btrfsInventory(poolB)).doesNotContain(".fleet-received/data." + ended.value());
    }

    @Test
    @DisplayName("a volume inside a btrfs subvolume (a data root on btrfs) is found and read from an atomic snapshot")
    void findsVolumeDirectoryInsideDataRootSubvolume() throws Exception {
        Path dataRoot = subvolume(btrfsRun.resolve(unique("dataroot")));
        Path data = Files.createDirectories(dataRoot.resolve("volumes/dr-vol/_data"));
        Files.writeString(data.resolve("a.txt"), "at the snapshot");
        ObjectNode inspect = Manifest.JSON.createObjectNode().put("Name", "dr-vol").put("Driver", "local")
                .put("Mountpoint", data.toString());
        CowStorage cow = new CowStorage(NodeId.of("dr"), Clock.systemUTC(),
                Files.createDirectories(btrfsRun.resolve("dr-archive")), true, Optional.empty(), Map.of());

        VolumeBackend found = cow.detect(inspect);
        assertThat(found.kind()).contains(PoolKind.BTRFS);
        assertThat(found.holder()).contains(dataRoot);
        assertThat(found.relative()).isEqualTo("volumes/dr-vol/_data");
        assertThat(found.whole()).isFalse();

        MigrationId m = MigrationId.of("m-" + unique("dr").replace("dr-", ""));
        SourceSession session = cow.snapshot(m, B, Map.of("dr-vol", inspect));
        Files.writeString(data.resolve("a.txt"), "after the snapshot");
        Path snapshotRoot = session.readRoot("dr-vol").orElseThrow();
        assertThat(Files.readString(snapshotRoot.resolve("a.txt"))).isEqualTo("at the snapshot");
        assertThat(session.sendsNatively("dr-vol")).as("a directory in a subvolume never goes natively").isFalse();
        session.release();
        assertThat(snapshotRoot).doesNotExist();
        assertThat(cow.session(m).volumes()).isEmpty();
    }

    @Test
    @DisplayName("a retained volume the target had placed in its pool loses its subvolume when a later migration replaces it")
    void replacedRetainedVolumeLeavesNoSubvolume() throws Exception {
        nodes(PoolKind.BTRFS);
        App app = deploy(PoolKind.BTRFS);
        Migration m1 = advanceUntil(orchestrator.create(app.name, A.value(), B.value()), Migration::isTerminal);
        assertThat(m1.state()).as("failure: %s", m1.failure()).isEqualTo(MigrationState.DONE);
        Path placed1 = poolB.resolve(app.volume + "." + m1.id().value());
        assertThat(placed1).as("restored into the pool").isDirectory();
        // back to A: B retires its copy and keeps the volume (on its subvolume) for a rollback
        Migration m2 = advanceUntil(orchestrator.create(app.name, B.value(), A.value()), Migration::isTerminal);
        assertThat(m2.state()).as("failure: %s", m2.failure()).isEqualTo(MigrationState.DONE);
        assertThat(placed1).as("the retained volume's data stays while it is retained").isDirectory();

        // to B again: the restore replaces the retained volume, and with it its subvolume
        Migration m3 = advanceUntil(orchestrator.create(app.name, A.value(), B.value()), Migration::isTerminal);

        assertThat(m3.state()).as("failure: %s", m3.failure()).isEqualTo(MigrationState.DONE);
        assertThat(placed1).doesNotExist();
        assertThat(btrfsInventory(poolB)).doesNotContain(app.volume + "." + m1.id().value())
                .contains(app.volume + "." + m3.id().value());
        TestNodes.assertServes(app.port, "/index.html", "before");
    }

    @Test
    @DisplayName("a replaced volume the node had placed in its pool goes with its subvolume; anything else is left alone")
    void dropReplacedDeletesOnlyWhatThePoolPlaced() throws Exception {
        Path pool = Files.createDirectories(btrfsRun.resolve(unique("droppool")));
        CowStorage cow = new CowStorage(NodeId.of("drop"), Clock.systemUTC(),
                Files.createDirectories(btrfsRun.resolve("drop-archive")), true,
                Optional.of(new CowStorage.Pool(PoolKind.BTRFS, pool)), Map.of());
        String volume = unique("dropvol");
        Path placed = subvolume(pool.resolve(volume + ".m-" + unique("x").substring(2)));
        Files.writeString(placed.resolve("a.txt"), "retained");
        Path operators = subvolume(Files.createDirectories(btrfsRun.resolve("src")).resolve(unique("own")));
        Path plainDir = Files.createDirectories(pool.resolve(volume + ".m-" + unique("y").substring(2)));

        assertThat(cow.dropReplaced(volume, bindVolume(volume, operators))).as("the operator's subvolume").isEmpty();
        assertThat(cow.dropReplaced("other", bindVolume("other", placed))).as("another volume's name").isEmpty();
        assertThat(cow.dropReplaced(volume, bindVolume(volume, plainDir))).as("not a subvolume").isEmpty();
        assertThat(cow.dropReplaced(volume, Manifest.JSON.createObjectNode().put("Name", volume).put("Driver", "local")
                .put("Mountpoint", "/var/lib/docker/volumes/" + volume + "/_data"))).as("a plain volume").isEmpty();
        assertThat(operators).isDirectory();
        assertThat(plainDir).isDirectory();
        assertThat(placed).isDirectory();

        assertThat(cow.dropReplaced(volume, bindVolume(volume, placed))).hasSize(1);

        assertThat(placed).doesNotExist();
        assertThat(btrfsInventory(pool)).doesNotContain(placed.getFileName().toString());
    }

    private static ObjectNode bindVolume(String name, Path device) {
        ObjectNode v = Manifest.JSON.createObjectNode().put("Name", name).put("Driver", "local")
                .put("Mountpoint", "/var/lib/docker/volumes/" + name + "/_data");
        v.putObject("Options").put("type", "none").put("o", "bind").put("device", device.toString());
        return v;
    }

    // ------------------------------------------------------------------ helpers

    record App(String name, String volume, Path source, int port, PoolKind kind, String dataset) {}

    /** A running httpd on host networking, serving a bind volume on a fresh subvolume or dataset. */
    private App deploy(PoolKind kind) throws Exception {
        String name = unique("cow");
        String volume = name + "-data";
        Path source;
        String dataset = null;
        if (kind == PoolKind.BTRFS) {
            source = subvolume(Files.createDirectories(btrfsRun.resolve("src")).resolve(volume));
        } else {
            dataset = zfsRun + "/" + volume;
            sh("zfs", "create", "--", dataset);
            source = zfsRunMount.resolve(volume);
        }
        fill(source);
        cleanup.add(new String[] {"container", name});
        cleanup.add(new String[] {"volume", volume});
        docker(A, "volume", "create", "--opt", "type=none", "--opt", "o=bind", "--opt", "device=" + source, volume);
        int port = TestNodes.freePort();
        docker(A, "run", "-d", "--name", name, "--network", "host", "--restart", "unless-stopped",
                "--label", "fleet.port=" + port, "-v", volume + ":/data", image,
                "httpd", "-f", "-p", "127.0.0.1:" + port, "-h", "/data");
        TestNodes.assertServes(port, "/index.html", "before");
        return new App(name, volume, source, port, kind, dataset);
    }

    /** ~5 MiB: a 4 MiB random file, 200 small files in directories, a symlink, a hardlink, odd names. */
    private static void fill(Path root) throws IOException {
        Random r = new Random(42);
        byte[] blob = new byte[4 << 20];
        r.nextBytes(blob);
        Files.write(root.resolve("blob.bin"), blob);
        for (int i = 0; i < 200; i++) {
            Path d = Files.createDirectories(root.resolve("dir-" + (i % 10)));
            Files.writeString(d.resolve("f" + i + ".txt"), "file " + i + " ".repeat(i * 7));
        }
        Files.writeString(root.resolve("index.html"), "before");
        Files.writeString(root.resolve("doomed.txt"), "delete me");
        Files.createDirectories(root.resolve("old-dir/sub"));
        Files.writeString(root.resolve("old-dir/sub/file"), "old");
        Files.writeString(root.resolve("naïve file ✓.txt"), "utf-8");
        Files.createSymbolicLink(root.resolve("link-to-index"), Path.of("index.html"));
        Files.createLink(root.resolve("dir-0/hard.txt"), root.resolve("dir-0/f0.txt"));
        Files.setAttribute(root.resolve("dir-1/f1.txt"), "unix:uid", 1000);
    }

    /**
     * Migrates a fresh app from A to B, writing, overwriting and deleting after the snapshot
     * (while the app still serves), and checks the trees, the route to the data, and the cleanup.
     */
    private Migration migrateWithLateWrites(PoolKind sourceKind, String expectedTransfer) throws Exception {
        App app = deploy(sourceKind);
        long t0 = System.nanoTime();
        Migration m = orchestrator.create(app.name, A.value(), B.value());
        m = advanceUntil(m, x -> x.finished(OperationKind.SNAPSHOT));
        assertThat(m.state()).as("failure: %s", m.failure()).isNotEqualTo(MigrationState.FAILED);
        assertThat(m.facts().get("volume." + app.volume + ".transfer")).contains(expectedTransfer);
        assertThat(Files.exists(snapshotPath(app, m.id()))).as("the first snapshot is shown").isTrue();
        TestNodes.assertServes(app.port, "/index.html", "before"); // never stopped or paused
        // the app keeps serving; these writes come after the snapshot
        Files.writeString(app.source.resolve("index.html"), "after the snapshot");
        Files.writeString(app.source.resolve("late.txt"), "written late");
        Files.delete(app.source.resolve("doomed.txt"));
        Files.delete(app.source.resolve("old-dir/sub/file"));
        Files.delete(app.source.resolve("old-dir/sub"));
        Files.delete(app.source.resolve("old-dir"));
        try (var ch = java.nio.channels.FileChannel.open(app.source.resolve("blob.bin"),
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap("patched in the middle".getBytes(StandardCharsets.UTF_8)), 2 << 20);
        }

        m = advanceUntil(m, Migration::isTerminal);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        System.out.printf("CowMigrationIT %s -> %s (%s): %d ms, downtime %s%n", sourceKind, poolKindOfB(),
                expectedTransfer, millis, m.downtime().map(Duration::toMillis).orElse(-1L));

        assertThat(m.state()).as("failure: %s", m.failure()).isEqualTo(MigrationState.DONE);
        JsonNode volume = Manifest.JSON.readTree(docker(B, "volume", "inspect", app.volume)).get(0);
        Path device = Path.of(volume.at("/Options/device").asText());
        assertThat(device.getParent()).as("restored into the target's volume pool").isEqualTo(poolB);
        assertThat(volume.at("/Options/o").asText()).isEqualTo("bind");
        assertThat(TreeFingerprint.of(device)).as("target tree equals the source's final tree")
                .isEqualTo(TreeFingerprint.of(app.source));
        assertThat(Files.readString(device.resolve("index.html"))).isEqualTo("after the snapshot");
        assertThat(device.resolve("doomed.txt")).doesNotExist();
        assertThat(device.resolve("old-dir")).doesNotExist();
        TestNodes.assertServes(app.port, "/index.html", "after the snapshot");
        TestNodes.assertServes(app.port, "/late.txt", "written late");
        assertNoSnapshotsLeft(m.id(), app);
        return m;
    }

    private PoolKind poolKindOfB() {
        return poolB.startsWith(btrfsRun) ? PoolKind.BTRFS : PoolKind.ZFS;
    }

    private static Path snapshotPath(App app, MigrationId m) {
        return app.source.getParent().resolve(".fleet-snapshots").resolve(app.volume + "@" + m.value() + "-first");
    }

    /**
     * No snapshot, view, clone or received base of {@code m} is left on either pool. The target
     * drops its received bases on a thread of its own once the app answers, so this waits (up to
     * 30 s) for that before it fails.
     */
    private void assertNoSnapshotsLeft(MigrationId m, App app) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (!snapshotsLeft(m).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(snapshotsLeft(m)).as("snapshots of " + m + " left on the pools").isEmpty();
        assertThat(app.source.getParent().resolve(".fleet-snapshots")).as("the snapshots' directory").doesNotExist();
        assertThat(a.archiveDirectory().resolve(m.value() + ".cow-state.json")).doesNotExist();
    }

    private List<String> snapshotsLeft(MigrationId m) {
        String btrfs = sh("btrfs", "subvolume", "list", "-a", "--", env("FLEET_TEST_BTRFS_MOUNT"));
        List<String> leftovers = new ArrayList<>(btrfs.lines()
                .filter(l -> l.contains("@" + m.value()) || (l.contains(".fleet-received") && l.contains(m.value())))
                .toList());
        String pool = env("FLEET_TEST_ZFS_POOL").split("/")[0];
        sh("zfs", "list", "-H", "-o", "name", "-t", "all", "-r", "--", pool).lines()
                .filter(l -> l.contains("@" + m.value()) || l.contains("fleet-views/" + m.value()))
                .forEach(leftovers::add);
        return leftovers;
    }

    private static String btrfsInventory(Path under) {
        String rel = Path.of(env("FLEET_TEST_BTRFS_MOUNT")).relativize(under).toString();
        return sh("btrfs", "subvolume", "list", "-a", "--", env("FLEET_TEST_BTRFS_MOUNT")).lines()
                .map(l -> l.replaceAll("^ID \\d+ gen \\d+ top level \\d+ path ", ""))
                .filter(l -> l.contains(rel)).sorted().reduce("", (x, y) -> x + y + "\n");
    }

    private static String zfsInventory() {
        return sh("zfs", "list", "-H", "-o", "name", "-t", "all", "-r", "--", zfsRun).lines().sorted()
                .reduce("", (x, y) -> x + y + "\n");
    }

    private static Path subvolume(Path at) {
        sh("btrfs", "subvolume", "create", "--", at.toString());
        return at;
    }

    Migration advanceUntil(Migration m, Predicate<Migration> until) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!until.test(m) && !m.isTerminal()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("migration stuck in " + m.state() + ": " + m);
            }
            m = orchestrator.advance(m.id());
            if (!until.test(m)) {
                Thread.sleep(50);
            }
        }
        return m;
    }

    static String unique(String prefix) {
        return prefix + "-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 30, 1L << 31), 36);
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private String docker(NodeId node, String... args) {
        List<String> cmd = new ArrayList<>(List.of("docker", "-H", node.equals(A) ? dockerA : dockerB));
        cmd.addAll(List.of(args));
        return sh(cmd.toArray(String[]::new));
    }

    private void dockerQuietly(NodeId node, String... args) {
        try {
            docker(node, args);
        } catch (AssertionError ignored) {
            // already gone
        }
    }

    static String sh(String... argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", argv) + " failed: " + out);
            }
            return out.strip();
        } catch (IOException e) {
            throw new AssertionError("could not run " + List.of(argv) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static void shQuietly(String... argv) {
        try {
            sh(argv);
        } catch (AssertionError ignored) {
            // best effort
        }
    }
}
