package dev.fleet.migration.docker.archive;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every hostile archive is refused as a whole, and nothing is written outside staging: after
 * each refusal staging is gone, the directory beside it holds exactly what it held before
 * (a sentinel tree and a "secret" file, unchanged, with no new hardlink), each refusal takes
 * under 5 s, and the reader's heap stays under 256 MiB (surefire runs this module with
 * {@code -Xmx256m}; the peak is measured too). The table of cases is written to
 * {@code target/hostile-archives.md} (docs/archive-format.md carries it).
 */
@DisplayName("Hostile archives are refused before a byte lands outside staging")
class HostileArchiveTest {
    private static final long MAX_MILLIS = 5_000;
    private static final long MAX_HEAP = 256L * 1024 * 1024;
    private static final Map<String, String> RESULTS = new ConcurrentHashMap<>();

    @TempDir
    Path tmp;
    Path outside;
    Path staging;

    @BeforeEach
    void setUp() throws IOException {
        outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("sentinel"), "untouched");
        Files.writeString(tmp.resolve("secret"), "secret");
        staging = tmp.resolve("staging");
    }

    // ------------------------------------------------------------------ building archives

    /** The outer archive, written exactly as the test says (lies included), sha256 kept as it goes. */
    static final class Outer {
        final OutputStream out;
        final MessageDigest sha = Digests.sha256();

        Outer(OutputStream out) {
            this.out = out;
        }

        Outer raw(byte[] b) throws IOException {
            out.write(b);
            sha.update(b);
            return this;
        }

        Outer entry(String name, byte[] data) throws IOException {
            return entry(name, data, data.length);
        }

        Outer entry(String name, byte[] data, long declared) throws IOException {
            raw(ArchiveWriter.header(name, declared));
            return body(data);
        }

        Outer body(byte[] data) throws IOException {
            raw(data);
            int rest = data.length % 512;
            return rest == 0 ? this : raw(new byte[512 - rest]);
        }

        Outer manifest(String json) throws IOException {
            return entry(Manifest.NAME, json.getBytes(StandardCharsets.UTF_8));
        }

        Outer manifest() throws IOException {
            return manifest(manifestJson("snapshot", 512, "data"));
        }

        /** A part in chunks of 512 bytes (the smallest chunk size). */
        Outer part(String name, byte[] data) throws IOException {
            int chunks = Math.max(1, (data.length + 511) / 512);
            for (int i = 0; i < chunks; i++) {
                entry(ArchiveWriter.chunkName(name, i),
                        Arrays.copyOfRange(data, i * 512, Math.min(data.length, (i + 1) * 512)));
            }
            return this;
        }

        /** The index, with the body's real sha256 unless one is given. */
        Outer index(String entriesJson, String deletionsJson, String bodySha) throws IOException {
            String template = "{\"entries\":" + entriesJson + ",\"deletions\":" + deletionsJson
                    + ",\"bodySha256\":\"" + "#".repeat(64) + "\"}";
            raw(ArchiveWriter.header(Manifest.INDEX, template.length()));
            String body = bodySha != null ? bodySha : hex(sha);
            return body(template.replace("#".repeat(64), body).getBytes(StandardCharsets.UTF_8));
        }

        Outer index(String name, long size, long chunks) throws IOException {
            return index("[{\"name\":\"" + name + "\",\"size\":" + size + ",\"chunks\":" + chunks + "}]", "{}", null);
        }

        Outer end() throws IOException {
            return raw(new byte[1024]);
        }

        static String hex(MessageDigest d) {
            try {
                return Digests.hex((MessageDigest) d.clone());
            } catch (CloneNotSupportedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    static String manifestJson(String kind, int chunkSize, String... volumes) {
        StringBuilder v = new StringBuilder();
        for (String name : volumes) {
            v.append(v.length() == 0 ? "" : ",").append("{\"name\":\"").append(name).append("\",\"driver\":\"local\"}");
        }
        return "{\"formatVersion\":2,\"kind\":\"" + kind + "\",\"migration\":\"m-evil\",\"app\":\"web\","
                + "\"containers\":[],\"volumes\":[" + v + "],\"chunkSize\":" + chunkSize + "}";
    }

    /** A well-formed outer archive (right structure, index and sha256s) around a volume tar. */
    static byte[] around(byte[] volumeTar) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Outer o = new Outer(bytes).manifest().part("volumes/data.tar", volumeTar);
        o.index("volumes/data.tar", volumeTar.length, Math.max(1, (volumeTar.length + 511) / 512)).end();
        return bytes.toByteArray();
    }

    /** One entry of a hand-made volume tar. */
    record E(String name, byte flag, String link, byte[] content, int mode, Map<String, String> pax) {
        static E file(String name, String content) {
            return new E(name, TarConstants.LF_NORMAL, null, content.getBytes(StandardCharsets.UTF_8), 0100644, Map.of());
        }

        static E dir(String name) {
            return new E(name, TarConstants.LF_DIR, null, null, 040755, Map.of());
        }

        static E symlink(String name, String target) {
            return new E(name, TarConstants.LF_SYMLINK, target, null, 0120777, Map.of());
        }

        static E hardlink(String name, String target) {
            return new E(name, TarConstants.LF_LINK, target, null, 0100644, Map.of());
        }

        static E special(String name, byte flag, int mode) {
            return new E(name, flag, null, null, mode, Map.of());
        }

        E mode(int m) {
            return new E(name, flag, link, content, m, pax);
        }
    }

    static byte[] volumeTar(E... entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes, StandardCharsets.UTF_8.name())) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (E e : entries) {
                TarArchiveEntry t = new TarArchiveEntry(e.name, e.flag, true); // keep absolute names as given
                t.setMode(e.mode);
                if (e.link != null) {
                    t.setLinkName(e.link);
                }
                e.pax.forEach(t::addPaxHeader);
                byte[] data = e.content == null ? new byte[0] : e.content;
                if (e.flag == TarConstants.LF_NORMAL) {
                    t.setSize(data.length);
                }
                tar.putArchiveEntry(t);
                tar.write(data);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** A raw tar header of any type and declared size (what commons-compress would not write). */
    static byte[] rawHeader(String name, byte flag, long size) {
        TarArchiveEntry e = new TarArchiveEntry(name, flag, true);
        byte[] h = new byte[512];
        e.setSize(0);
        e.setMode(flag == TarConstants.LF_DIR ? 040755 : 0100644);
        e.writeEntryHeader(h);
        String octal = String.format(Locale.ROOT, "%011o", size);
        if (octal.length() <= 11) {
            System.arraycopy(octal.getBytes(StandardCharsets.US_ASCII), 0, h, 124, 11);
            h[135] = 0;
        } else { // base-256, as star and GNU tar write sizes over 8 GiB
            Arrays.fill(h, 124, 136, (byte) 0);
            h[124] = (byte) 0x80;
            for (int i = 135; i > 124 && size != 0; i--) {
                h[i] = (byte) size;
                size >>>= 8;
            }
        }
        checksum(h);
        return h;
    }

    static void checksum(byte[] h) {
        Arrays.fill(h, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        byte[] c = String.format(Locale.ROOT, "%06o", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(c, 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
    }

    static byte[] concat(byte[]... parts) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.write(p);
        }
        return out.toByteArray();
    }

    static byte[] padded(byte[] data) {
        return Arrays.copyOf(data, (data.length + 511) / 512 * 512);
    }

    static byte[] paxRecords(String... keyValues) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < keyValues.length; i += 2) {
            String kv = " " + keyValues[i] + "=" + keyValues[i + 1] + "\n";
            int len = kv.length() + 1;
            while (String.valueOf(len).length() + kv.length() != len) {
                len++;
            }
            sb.append(len).append(kv);
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static byte[] paxThen(byte[] pax, byte[] rest) throws IOException {
        return concat(rawHeader("./PaxHeaders/x", TarConstants.LF_PAX_EXTENDED_HEADER_LC, pax.length), padded(pax), rest);
    }

    // ------------------------------------------------------------------ the cases

    /** Produces an archive: a file's bytes, or (for the huge ones) a stream generated on the fly. */
    interface Source {
        byte[] bytes() throws IOException;

        default boolean streamed() {
            return false;
        }

        default void writeTo(OutputStream out) throws IOException {
            out.write(bytes());
        }
    }

    /** A generated archive too large to hold: written into a pipe while the reader reads it. */
    interface Streamed extends Source {
        @Override
        default byte[] bytes() {
            throw new UnsupportedOperationException();
        }

        @Override
        default boolean streamed() {
            return true;
        }

        @Override
        void writeTo(OutputStream out) throws IOException;
    }

    record Case(String name, String tries, String expected, Source source, Optional<String> expectedSha) {
        Case(String name, String tries, String expected, Source source) {
            this(name, tries, expected, source, Optional.empty());
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Case inner(String name, String tries, String expected, E... entries) {
        return new Case(name, tries, expected, () -> around(volumeTar(entries)));
    }

    static Case innerRaw(String name, String tries, String expected, Source volumeTar) {
        return new Case(name, tries, expected, () -> around(volumeTar.bytes()));
    }

    static Case outer(String name, String tries, String expected, Source archive) {
        return new Case(name, tries, expected, archive);
    }

    static byte[] goodVolume() throws IOException {
        return volumeTar(E.dir("./"), E.file("data.txt", "AAAAAAAAAAAAAAAA".repeat(100)));
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // ---- not an archive at all
        c.add(outer("zero-byte file", "an empty file", "empty", () -> new byte[0]));
        c.add(outer("1,024 bytes of garbage", "random bytes where a tar is expected", "refused", () -> random(1024, 42)));
        c.add(outer("1,024 zero bytes", "only end-of-archive records", "empty", () -> new byte[1024]));
        c.add(outer("truncated in the middle", "half of a valid archive", "truncated", () -> {
            byte[] all = around(volumeTar(E.file("big", new String(random(200_000, 1), StandardCharsets.ISO_8859_1))));
            return Arrays.copyOf(all, all.length / 2);
        }));
        c.add(outer("truncated inside the manifest", "a manifest header whose data is cut", "truncated", () ->
                Arrays.copyOf(around(goodVolume()), 600)));
        c.add(outer("no index", "every part but no index.json and no end", "index.json is missing", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            new Outer(b).manifest().part("volumes/data.tar", goodVolume());
            return b.toByteArray();
        }));
        c.add(outer("a v1 archive (tar of a volume tar)", "the first entry is a volume, not manifest.json",
                "first entry must be manifest.json", () -> volumeTar(E.file("volumes/data.tar", "x"))));
        // ---- manifest lies
        c.add(outer("manifest too large", "a 5 MiB manifest.json header", "at most", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            new Outer(b).entry(Manifest.NAME, "{}".getBytes(StandardCharsets.UTF_8), 5L << 20);
            return b.toByteArray();
        }));
        c.add(outer("manifest not JSON", "garbage in manifest.json", "not valid JSON",
                () -> manifestOnly("{not json")));
        c.add(outer("manifest of format version 1", "an old archive", "format version",
                () -> manifestOnly(manifestJson("snapshot", 512, "data").replace("\"formatVersion\":2",
                        "\"formatVersion\":1"))));
        c.add(outer("manifest of format version 99", "a future archive", "format version",
                () -> manifestOnly(manifestJson("snapshot", 512, "data").replace(":2,", ":99,"))));
        c.add(outer("manifest of unknown kind", "kind \"exploit\"", "kind",
                () -> manifestOnly(manifestJson("exploit", 512, "data"))));
        c.add(outer("manifest chunk size 0", "chunks of no size", "chunkSize", () -> manifestOnly(manifestJson("snapshot", 0,
                "data"))));
        c.add(outer("manifest chunk size 1 GiB", "chunks held in memory that large", "chunkSize",
                () -> manifestOnly(manifestJson("snapshot", 1 << 30, "data"))));
        c.add(outer("manifest volume name with traversal", "volume \"../x\"", "manifest.volume",
                () -> manifestOnly(manifestJson("snapshot", 512, "../x"))));
        c.add(outer("manifest volume listed twice", "two volumes of one name", "listed twice",
                () -> manifestOnly(manifestJson("snapshot", 512, "data", "data"))));
        c.add(outer("manifest migration id with a slash", "migration \"m/../x\"", "manifest.migration",
                () -> manifestOnly(manifestJson("snapshot", 512, "data").replace("m-evil", "m/../x"))));
        // ---- outer entries
        c.add(outer("undeclared volume entry", "volumes/other.tar, not in the manifest", "is not a chunk of",
                () -> withPart("volumes/other.tar/00000000", goodVolume())));
        c.add(outer("outer traversal name", "an outer entry ../../pwned", "is not a chunk of",
                () -> withPart("../../pwned/00000000", "x".getBytes(StandardCharsets.UTF_8))));
        c.add(outer("outer absolute name", "an outer entry /tmp/pwned/00000000", "is not a chunk of",
                () -> withPart("/tmp/pwned/00000000", "x".getBytes(StandardCharsets.UTF_8))));
        c.add(outer("outer sibling-prefix name", "volumes/data.tar-evil/00000000 beside volumes/data.tar",
                "is not a chunk of", () -> withPart("volumes/data.tar-evil/00000000", "x".getBytes(StandardCharsets.UTF_8))));
        c.add(outer("v1-style whole entry", "volumes/data.tar without chunk numbers", "is not a chunk of",
                () -> withPart("volumes/data.tar", goodVolume())));
        c.add(outer("chunk sequence gap", "chunk 0 then chunk 2", "expected the chunk", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            new Outer(b).manifest().entry("volumes/data.tar/00000000", new byte[512])
                    .entry("volumes/data.tar/00000002", new byte[512]);
            return b.toByteArray();
        }));
        c.add(outer("chunks start at 1", "the first chunk numbered 00000001", "expected the chunk",
                () -> withPart("volumes/data.tar/00000001", goodVolume())));
        c.add(outer("huge declared chunk", "a chunk header declaring 8 GiB", "more than the chunk size", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            new Outer(b).manifest().entry("volumes/data.tar/00000000", new byte[512], 8L << 30);
            return b.toByteArray();
        }));
        c.add(outer("short chunk that is not the last", "a 100-byte chunk followed by another", "short of the chunk size",
                () -> {
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    new Outer(b).manifest().entry("volumes/data.tar/00000000", new byte[100])
                            .entry("volumes/data.tar/00000001", new byte[100]);
                    return b.toByteArray();
                }));
        c.add(outer("duplicate part", "volumes/data.tar twice, with an image between", "appears twice", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            byte[] v = goodVolume();
            new Outer(b).manifest().part("volumes/data.tar", v).part("image.tar", new byte[10])
                    .part("volumes/data.tar", v);
            return b.toByteArray();
        }));
        c.add(outer("chunk that is a symlink", "an outer symlink named like a chunk", "not a regular entry", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            new Outer(b).manifest().raw(rawHeader("volumes/data.tar/00000000", TarConstants.LF_SYMLINK, 0));
            return b.toByteArray();
        }));
        c.add(outer("chunk that is a hardlink", "an outer hardlink named like a chunk", "not a regular entry", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            new Outer(b).manifest().raw(rawHeader("volumes/data.tar/00000000", TarConstants.LF_LINK, 0));
            return b.toByteArray();
        }));
        c.add(outer("chunk that is a device", "an outer character device named like a chunk", "not a regular entry",
                () -> {
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    new Outer(b).manifest().raw(rawHeader("volumes/data.tar/00000000", TarConstants.LF_CHR, 0));
                    return b.toByteArray();
                }));
        // ---- index lies
        c.add(outer("declared volume missing", "the manifest declares two volumes, one travels", "is declared but",
                () -> {
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    byte[] v = goodVolume();
                    new Outer(b).manifest(manifestJson("snapshot", 512, "data", "logs")).part("volumes/data.tar", v)
                            .index("volumes/data.tar", v.length, (v.length + 511) / 512).end();
                    return b.toByteArray();
                }));
        c.add(outer("index lies about a size", "index.json says 1 byte", "index.json lists", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            byte[] v = goodVolume();
            new Outer(b).manifest().part("volumes/data.tar", v).index("volumes/data.tar", 1, (v.length + 511) / 512).end();
            return b.toByteArray();
        }));
        c.add(outer("index lists an extra entry", "an entry that never came", "index.json lists", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            byte[] v = goodVolume();
            long n = (v.length + 511) / 512;
            new Outer(b).manifest().part("volumes/data.tar", v).index("[{\"name\":\"volumes/data.tar\",\"size\":"
                    + v.length + ",\"chunks\":" + n + "},{\"name\":\"image.tar\",\"size\":0,\"chunks\":1}]", "{}", null)
                    .end();
            return b.toByteArray();
        }));
        c.add(outer("index with a wrong body sha256", "every byte fine but the digest", "index.json says", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            byte[] v = goodVolume();
            new Outer(b).manifest().part("volumes/data.tar", v).index("[{\"name\":\"volumes/data.tar\",\"size\":"
                    + v.length + ",\"chunks\":" + ((v.length + 511) / 512) + "}]", "{}", "0".repeat(64)).end();
            return b.toByteArray();
        }));
        c.add(outer("a flipped bit", "one bit of the volume changed after writing", "index.json says", () -> {
            byte[] all = around(goodVolume());
            int at = new String(all, StandardCharsets.ISO_8859_1).indexOf("AAAAAAAA");
            all[at] ^= 1;
            return all;
        }));
        c.add(outer("index not JSON", "garbage in index.json", "index.json is not valid JSON", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            new Outer(b).manifest().part("volumes/data.tar", goodVolume())
                    .entry(Manifest.INDEX, "{nope".getBytes(StandardCharsets.UTF_8)).end();
            return b.toByteArray();
        }));
        c.add(outer("index too large", "an index.json header declaring 100 MiB", "index.json must be", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            new Outer(b).manifest().part("volumes/data.tar", goodVolume())
                    .entry(Manifest.INDEX, "{}".getBytes(StandardCharsets.UTF_8), 100L << 20);
            return b.toByteArray();
        }));
        c.add(outer("entry after the index", "a part smuggled in after index.json", "follows index.json", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            byte[] v = goodVolume();
            new Outer(b).manifest().part("volumes/data.tar", v).index("volumes/data.tar", v.length, (v.length + 511) / 512)
                    .part("image.tar", new byte[10]).end();
            return b.toByteArray();
        }));
        c.add(outer("snapshot with deletions", "a snapshot index that deletes paths", "a snapshot lists deletions", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            byte[] v = goodVolume();
            new Outer(b).manifest().part("volumes/data.tar", v).index("[{\"name\":\"volumes/data.tar\",\"size\":"
                    + v.length + ",\"chunks\":" + ((v.length + 511) / 512) + "}]", "{\"data\":[\"x\"]}", null).end();
            return b.toByteArray();
        }));
        c.add(outer("deletions of an undeclared volume", "a delta deleting in a volume it does not declare",
                "undeclared volume", () -> {
                    ByteArrayOutputStream b = new ByteArrayOutputStream();
                    byte[] v = goodVolume();
                    new Outer(b).manifest(manifestJson("delta", 512, "data")).part("volumes/data.tar", v)
                            .index("[{\"name\":\"volumes/data.tar\",\"size\":" + v.length + ",\"chunks\":"
                                    + ((v.length + 511) / 512) + "}]", "{\"etc\":[\"passwd\"]}", null).end();
                    return b.toByteArray();
                }));
        c.add(new Case("whole-file sha256 not the recorded one", "a consistent archive that is not the one recorded",
                "was expected", () -> around(goodVolume()), Optional.of("0".repeat(64))));
        // ---- header bombs in the outer archive
        c.add(outer("outer PAX bomb: one huge record", "a 1 GiB PAX header before a chunk", "PAX header of", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            new Outer(b).manifest().raw(rawHeader("./PaxHeaders/x", TarConstants.LF_PAX_EXTENDED_HEADER_LC, 1L << 30))
                    .raw("1073741824 path=".getBytes(StandardCharsets.US_ASCII));
            return b.toByteArray();
        }));
        c.add(new Case("outer PAX bomb: many records", "2 MiB of tiny PAX records, streamed", "PAX header of",
                (Streamed) out -> {
                    Outer o = new Outer(out).manifest();
                    byte[] record = paxRecords("k", "v");
                    int n = (2 << 20) / record.length;
                    o.raw(rawHeader("./PaxHeaders/x", TarConstants.LF_PAX_EXTENDED_HEADER_LC, (long) n * record.length));
                    for (int i = 0; i < n; i++) {
                        o.raw(record);
                    }
                }));
        c.add(outer("outer global PAX header", "a 'g' header applying to every entry", "global PAX", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            byte[] pax = paxRecords("path", "../../pwned");
            new Outer(b).manifest().raw(rawHeader("./PaxHeaders/g", TarConstants.LF_PAX_GLOBAL_EXTENDED_HEADER,
                    pax.length)).raw(padded(pax));
            return b.toByteArray();
        }));
        c.add(outer("outer GNU long name", "a GNU 'L' header renaming the next entry", "GNU long name", () -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            byte[] name = "../../pwned/00000000".getBytes(StandardCharsets.UTF_8);
            new Outer(b).manifest().raw(rawHeader("././@LongLink", TarConstants.LF_GNUTYPE_LONGNAME, name.length))
                    .raw(padded(name));
            return b.toByteArray();
        }));
        c.add(new Case("a million outer entries", "1,000,000 unlisted entries, streamed", "is not a chunk of",
                (Streamed) out -> {
                    Outer o = new Outer(out).manifest();
                    byte[] header = rawHeader("junk", TarConstants.LF_NORMAL, 0);
                    for (int i = 0; i < 1_000_000; i++) {
                        o.raw(header);
                    }
                    o.end();
                }));
        c.add(new Case("a million tiny chunks", "a volume in 1,000,000 chunks of 1 byte, streamed",
                "short of the chunk size", (Streamed) out -> {
                    Outer o = new Outer(out).manifest();
                    for (int i = 0; i < 1_000_000; i++) {
                        o.entry(ArchiveWriter.chunkName("volumes/data.tar", i), new byte[] {1});
                    }
                    o.end();
                }));
        // ---- the volume's tree: paths
        c.add(inner("traversal", "../outside/pwned", "'..'", E.file("ok", "fine"), E.file("../outside/pwned", "x")));
        c.add(inner("traversal after ./", "./../outside/pwned", "'..'", E.file("./../outside/pwned", "x")));
        c.add(inner("traversal hidden in the middle", "a/../../outside/pwned", "'..'", E.dir("a/"),
                E.file("a/../../outside/pwned", "x")));
        c.add(inner("traversal through a long PAX name", "a 300-character name ending in ../../x", "'..'",
                E.file("d/".repeat(150) + "../../../../../../../../../../../../../../../../../../../../../../../../"
                        + "../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../"
                        + "../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../"
                        + "../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../"
                        + "../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../"
                        + "../outside/pwned", "x")));
        c.add(inner("absolute path", "/tmp/.../outside/pwned", "absolute path", E.file("/outside/pwned", "x")));
        c.add(inner("sibling prefix: symlink", "link -> ../data-evil, beside the volume data", "leaves the volume",
                E.symlink("link", "../data-evil"), E.file("link/pwned", "x")));
        c.add(inner("sibling prefix: path", "../data-evil/pwned", "'..'", E.file("../data-evil/pwned", "x")));
        c.add(inner("sibling prefix: hardlink", "a hardlink to ../data-evil/file", "'..'",
                E.hardlink("h", "../data-evil/file")));
        // ---- links
        c.add(inner("symlink out, then write through", "escape -> ../outside, then escape/pwned", "leaves the volume",
                E.symlink("escape", "../outside"), E.file("escape/pwned", "x")));
        c.add(inner("absolute symlink, then write through", "escape -> /..., then escape/pwned", "absolute path",
                E.symlink("escape", "/tmp"), E.file("escape/pwned", "x")));
        c.add(inner("symlink inside, then write through", "alias -> real, then alias/file", "below the symlink",
                E.dir("real/"), E.symlink("alias", "real"), E.file("alias/file", "x")));
        c.add(inner("symlink chain out", "a -> b inside, b -> ../outside", "leaves the volume", E.symlink("a", "b"),
                E.symlink("b", "../outside")));
        c.add(inner("symlink with an empty target", "a link to \"\"", "empty or invalid target", E.symlink("a", "")));
        c.add(inner("symlink replacing a directory", "dir d, then a symlink named d", "appears twice", E.dir("d/"),
                E.symlink("d", "x")));
        c.add(inner("hardlink out", "h => ../secret", "'..'", E.hardlink("h", "../secret")));
        c.add(inner("absolute hardlink", "h => /.../secret", "absolute path", E.hardlink("h", "/etc/passwd")));
        c.add(inner("hardlink to something not extracted", "h => never-written", "not a regular file",
                E.hardlink("h", "never-written")));
        c.add(inner("hardlink to itself", "h => h, never written", "not a regular file", E.hardlink("h", "h")));
        c.add(inner("hardlink to a directory", "h => d/", "not a regular file", E.dir("d/"), E.hardlink("h", "d")));
        c.add(inner("hardlink to a symlink", "l -> f, h => l", "not a regular file", E.file("f", "x"),
                E.symlink("l", "f"), E.hardlink("h", "l")));
        // ---- types and modes
        c.add(inner("block device", "dev/sda", "block device", E.file("ok", "x"),
                E.special("dev/sda", TarConstants.LF_BLK, 060600)));
        c.add(inner("character device", "a /dev/null look-alike", "character device",
                E.special("null", TarConstants.LF_CHR, 020666)));
        c.add(inner("FIFO", "a named pipe", "FIFO", E.special("pipe", TarConstants.LF_FIFO, 010644)));
        c.add(inner("contiguous file", "type '7'", "special entry", E.special("c", (byte) '7', 0100644)));
        c.add(inner("setuid file", "mode 4755", "setuid", E.file("su", "x").mode(0104755)));
        c.add(inner("setgid file", "mode 2755", "setuid or setgid", E.file("sg", "x").mode(0102755)));
        c.add(inner("setuid directory", "a directory of mode 4755", "setuid", E.dir("d/").mode(044755)));
        c.add(inner("root as a file", ". as a regular file", "names the root", E.file(".", "x")));
        // ---- sizes and header bombs in the volume tar
        c.add(innerRaw("huge declared file size", "a file header declaring 1 TiB with 16 bytes behind it", "truncated",
                () -> concat(rawHeader("big", TarConstants.LF_NORMAL, 1L << 40), padded("sixteen bytes!!!".getBytes(
                        StandardCharsets.US_ASCII)))));
        c.add(innerRaw("huge size through PAX", "a PAX size=2^50 record on a tiny file", "truncated",
                () -> paxThen(paxRecords("size", String.valueOf(1L << 50)),
                        concat(rawHeader("big", TarConstants.LF_NORMAL, 1), new byte[512]))));
        c.add(innerRaw("PAX bomb: one huge record", "a 512 MiB PAX header", "PAX header of",
                () -> concat(rawHeader("./PaxHeaders/x", TarConstants.LF_PAX_EXTENDED_HEADER_LC, 512L << 20),
                        padded("536870912 SCHILY.xattr.user.a=".getBytes(StandardCharsets.US_ASCII)))));
        c.add(innerRaw("PAX bomb: many records", "200,000 xattr records (over 1 MiB)", "PAX header of", () -> {
            ByteArrayOutputStream pax = new ByteArrayOutputStream();
            for (int i = 0; i < 200_000; i++) {
                pax.write(paxRecords("SCHILY.xattr.user.k" + i, "v"));
            }
            return paxThen(pax.toByteArray(), concat(rawHeader("f", TarConstants.LF_NORMAL, 0)));
        }));
        c.add(innerRaw("PAX after PAX", "two PAX headers in a row", "right after another", () ->
                paxThen(paxRecords("path", "a"), paxThen(paxRecords("path", "b"), rawHeader("f", TarConstants.LF_NORMAL,
                        0)))));
        c.add(innerRaw("global PAX header", "a 'g' header in the volume", "global PAX", () -> {
            byte[] pax = paxRecords("path", "../pwned");
            return concat(rawHeader("g", TarConstants.LF_PAX_GLOBAL_EXTENDED_HEADER, pax.length), padded(pax));
        }));
        c.add(innerRaw("GNU long name", "an 'L' header", "GNU long name", () -> {
            byte[] name = "../outside/pwned".getBytes(StandardCharsets.UTF_8);
            return concat(rawHeader("././@LongLink", TarConstants.LF_GNUTYPE_LONGNAME, name.length), padded(name));
        }));
        c.add(innerRaw("GNU sparse entry", "an 'S' header with its own layout", "GNU sparse",
                () -> rawHeader("s", TarConstants.LF_GNUTYPE_SPARSE, 0)));
        c.add(innerRaw("directory with data", "a directory header declaring 1 MiB", "declares",
                () -> rawHeader("d/", TarConstants.LF_DIR, 1 << 20)));
        c.add(innerRaw("bad header checksum", "a header whose checksum is wrong", "checksum", () -> {
            byte[] h = rawHeader("f", TarConstants.LF_NORMAL, 0);
            h[0] = 'g';
            return h;
        }));
        c.add(innerRaw("garbage volume", "1,024 random bytes as the volume tar", "refused", () -> random(1024, 7)));
        c.add(innerRaw("truncated volume tar", "a volume tar cut inside a file", "truncated", () -> {
            byte[] v = volumeTar(E.file("f", "x".repeat(5000)));
            return Arrays.copyOf(v, 2048);
        }));
        // ---- duplicates and counts
        c.add(inner("duplicate file", "f twice", "appears twice", E.file("f", "1"), E.file("f", "2")));
        c.add(inner("duplicate directory", "d/ twice", "appears twice", E.dir("d/"), E.dir("d/")));
        c.add(inner("root twice", "./ twice", "appears twice", E.dir("./"), E.dir("./")));
        c.add(inner("file then symlink of one name", "f, then a symlink f -> x", "appears twice", E.file("f", "1"),
                E.symlink("f", "x")));
        c.add(new Case("a million tiny entries", "1,000,000 entries of one path in a volume, streamed", "appears twice",
                (Streamed) out -> {
                    Outer o = new Outer(out).manifest(manifestJson("snapshot", 1 << 20, "data"));
                    // the volume tar is a million identical empty files, in chunks of 1 MiB
                    byte[] header = rawHeader("f", TarConstants.LF_NORMAL, 0);
                    byte[] chunk = new byte[1 << 20];
                    for (int i = 0; i < chunk.length / 512; i++) {
                        System.arraycopy(header, 0, chunk, i * 512, 512);
                    }
                    for (int i = 0; i < 1_000_000 / (chunk.length / 512); i++) {
                        o.entry(ArchiveWriter.chunkName("volumes/data.tar", i), chunk);
                    }
                }));
        c.add(inner("many files, then a traversal", "2,000 files, then ../outside/pwned", "'..'", manyThen(2_000,
                E.file("../outside/pwned", "x"))));
        return c;
    }

    static E[] manyThen(int n, E last) {
        E[] all = new E[n + 2];
        all[0] = E.dir("./");
        for (int i = 0; i < n; i++) {
            all[i + 1] = E.file("f" + i, "");
        }
        all[n + 1] = last;
        return all;
    }

    static byte[] manifestOnly(String json) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        new Outer(b).manifest(json).end();
        return b.toByteArray();
    }

    static byte[] withPart(String chunkName, byte[] data) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        new Outer(b).manifest().entry(chunkName, data).end();
        return b.toByteArray();
    }

    // ------------------------------------------------------------------ the check

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refusesHostileArchive(Case c) throws Exception {
        Map<String, String> before = snapshotOfTmp();
        Path archive = c.source().streamed() ? null : Files.write(tmp.resolve("m-evil.tar"), c.source().bytes());
        resetPeakHeap();
        long t0 = System.nanoTime();
        Throwable thrown;
        if (archive == null) {
            thrown = refusalOfStreamed(c); // generated while it is read
        } else {
            thrown = catchThrowable(() -> ArchiveReader.extract(archive, c.expectedSha(), staging, n -> {}));
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        long heap = peakHeap();
        assertThat(thrown).as(c.name()).isInstanceOf(ArchiveException.class);
        assertThat(thrown.getMessage()).as(c.name()).contains("refused").contains(c.expected());
        assertThat(staging).as("staging after " + c.name()).doesNotExist();
        Files.deleteIfExists(tmp.resolve("m-evil.tar"));
        assertThat(snapshotOfTmp()).as("the directory beside staging after " + c.name()).isEqualTo(before);
        assertThat(millis).as("milliseconds to refuse " + c.name()).isLessThan(MAX_MILLIS);
        assertThat(heap).as("peak heap refusing " + c.name()).isLessThan(MAX_HEAP);
        RESULTS.put(c.name(), "| " + c.name() + " | " + c.tries().replace("|", "\\|") + " | refused: "
                + shorten(thrown.getMessage()) + " | " + millis + " ms | " + (heap >> 20) + " MiB |");
    }

    private Throwable refusalOfStreamed(Case c) throws Exception {
        Pipe pipe = Pipe.open();
        Thread writer = new Thread(() -> {
            try (OutputStream out = Channels.newOutputStream(pipe.sink())) {
                c.source().writeTo(new java.io.BufferedOutputStream(out, 1 << 16) {
                    @Override
                    public void close() throws IOException {
                        flush();
                        super.close();
                    }
                });
            } catch (IOException readerStopped) {
                // the reader refused and closed its end
            }
        }, "hostile-archive-generator");
        writer.setDaemon(true);
        writer.start();
        Throwable thrown;
        try (ReadableByteChannel source = pipe.source()) {
            thrown = catchThrowable(() -> ArchiveReader.extract(source, "archive m-evil.tar", c.expectedSha(), staging,
                    n -> {}));
        }
        writer.join(10_000);
        return thrown;
    }

    private static Throwable catchThrowable(ThrowingRunnable r) {
        try {
            r.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Every path beside staging with its content (and link count), so any change outside shows. */
    private Map<String, String> snapshotOfTmp() throws IOException {
        Map<String, String> out = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.walk(tmp)) {
            for (Path p : s.toList()) {
                String rel = tmp.relativize(p).toString();
                if (rel.equals("m-evil.tar")) {
                    continue;
                }
                String what = Files.isSymbolicLink(p) ? "link:" + Files.readSymbolicLink(p)
                        : Files.isDirectory(p) ? "dir" : Files.readString(p) + " nlink=" + Files.getAttribute(p, "unix:nlink");
                out.put(rel, what);
            }
        }
        return out;
    }

    private static String shorten(String message) {
        String m = message.replaceAll("/tmp/junit[0-9]+", "…").replace("|", "\\|").replace("\n", " ");
        return m.length() > 160 ? m.substring(0, 157) + "..." : m;
    }

    private static void resetPeakHeap() {
        System.gc();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
    }

    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    @Test
    void thereAreAtLeastFiftyDistinctCases() {
        List<Case> all = cases();
        assertThat(all).hasSizeGreaterThanOrEqualTo(50);
        assertThat(all.stream().map(Case::name).distinct().count()).isEqualTo(all.size());
    }

    @Test
    void aWellFormedArchiveFromTheSameBuilderIsAccepted() throws IOException {
        // the builder itself is right: without a lie, the same construction extracts
        Path archive = Files.write(tmp.resolve("m-evil.tar"), around(goodVolume()));
        ArchiveReader.extract(archive, Optional.empty(), staging, n -> {});
        assertThat(Files.readString(staging.resolve("volumes/data/data.txt"))).startsWith("AAAA");
    }

    @AfterAll
    static void writeTable() throws IOException {
        StringBuilder sb = new StringBuilder("| case | what it tries | result | time | peak heap |\n|---|---|---|---:|---:|\n");
        for (Case c : cases()) {
            sb.append(RESULTS.getOrDefault(c.name(), "| " + c.name() + " | " + c.tries() + " | not run | | |")).append('\n');
        }
        Path out = Path.of("target", "hostile-archives.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, sb.toString());
    }
}
