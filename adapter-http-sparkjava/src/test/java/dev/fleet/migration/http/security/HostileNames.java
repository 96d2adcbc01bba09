package dev.fleet.migration.http.security;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Hostile names, generated systematically: every fragment of every category is put before,
 * inside and after a valid base name, and each category adds its own stand-alone values
 * (empty, only dots, 300 characters, {@code compose:} abuse...). Every fragment holds at least one
 * character that no name allows, or sits where the allow-list forbids it (a leading dot, dash or
 * underscore), so every value is invalid for app ids, node ids, volume names and migration ids
 * alike; a value that were accepted would be a bug in the generator or in the validation, and
 * the tests say which.
 */
public final class HostileNames {
    /** One hostile value and the category it exercises. */
    public record Name(String category, String value) {
        /** A printable label: the value with every character outside printable ASCII escaped. */
        public String label() {
            StringBuilder b = new StringBuilder();
            int limit = Math.min(value.length(), 40);
            for (int i = 0; i < limit; i++) {
                char c = value.charAt(i);
                b.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c));
            }
            if (value.length() > limit) {
                b.append("...(").append(value.length()).append(')');
            }
            return category + ": [" + b + "]";
        }

        @Override
        public String toString() {
            return label();
        }
    }

    /** Fragments by category, each invalid wherever it is placed. */
    static final Map<String, List<String>> FRAGMENTS = new LinkedHashMap<>();

    static {
        FRAGMENTS.put("shell metacharacter", List.of(";", ";rm -rf /", "|", "|id", "&", "&&id", "||", "$(id)", "$(",
                "${IFS}", "$HOME", "`id`", "`", ">", ">/etc/passwd", "<", "<<EOF", "2>&1", "*", "?", "!", "~", "#",
                "(", ")", "{", "}", "[", "]", "\\", "=", ",", "^", "+", "@"));
        FRAGMENTS.put("quote", List.of("'", "\"", "' OR '1'='1", "\"; id; \"", "''", "\\'"));
        FRAGMENTS.put("whitespace and control", List.of(" ", "\t", "\u0000", "\r", "\n", "\r\n", "\u000b", "\u000c",
                "\u0007", "\u001b[31m", "\u007f", "\u0085", "\u00a0", "\u2028", "\b"));
        FRAGMENTS.put("path traversal", List.of("/", "/../", "../", "..\\", "/etc/passwd", "\\..\\", "/./"));
        FRAGMENTS.put("unicode look-alike", List.of("\u0430", "\u0435", "\u043e", "\u03bf", "\u0131",
                "\uff57\uff45\uff42", "\uff0e\uff0e\uff0f", "\u200d", "\u200b", "\u202e", "\u2066", "\ufeff", "\u0301",
                "\ud835\udc30", "\u2013", "\ufb01", "\u00e9"));
        FRAGMENTS.put("percent-encoded", List.of("%2e%2e%2f", "%00", "%0a", "%2d", "%20", "%252e", "%c0%ae"));
        FRAGMENTS.put("url and format", List.of(":", "?x=1", "#frag", "http://evil/", "@evil", ":latest", "%s%n"));
    }

    /** Fragments that are invalid only at the start (the first character must be a letter or digit). */
    static final List<String> LEADING = List.of("-", "--", "--help", "-rf", "--version", "-e", ".", "..", "_", ".hidden",
            "-a");

    private HostileNames() {}

    /** Hostile app ids (base {@code web}), including {@code compose:} abuse. */
    public static List<Name> appIds() {
        List<Name> out = generate("web");
        for (String v : List.of("compose:", "compose:../x", "compose:..", "compose:Shop", "compose:-x", "compose:_x",
                "compose:.x", "compose:a.b", "compose:a;b", "compose:compose:x", "compose: x", "compose:/x",
                "compose:x/../y", "compose:\u0430", "compose:" + "a".repeat(256), "COMPOSE:x", "compose::x",
                "compose:x\n", "compose:$(id)", "compose:%2e%2e")) {
            out.add(new Name("compose: prefix abuse", v));
        }
        return dedupe(out);
    }

    /** Hostile node ids (base {@code a}); node ids are DNS labels, so upper case is hostile too. */
    public static List<Name> nodeIds() {
        List<Name> out = generate("a");
        for (String v : List.of("A", "Node-A", "a-", "a_b", "a.b", "a" + "b".repeat(63), "-a-", "localhost:22",
                "127.0.0.1", "a..b")) {
            out.add(new Name("node id rule", v));
        }
        return dedupe(out);
    }

    /** Hostile volume names (base {@code data}). */
    public static List<Name> volumeNames() {
        return dedupe(generate("data"));
    }

    /** Hostile migration ids for paths (base {@code m-t-1}); upper case is hostile here. */
    public static List<Name> migrationIds() {
        List<Name> out = generate("m-t-1");
        for (String v : List.of("M-T-1", "m_t_1", "m.t.1", "m-" + "1".repeat(63), "-m-t-1")) {
            out.add(new Name("migration id rule", v));
        }
        return dedupe(out);
    }

    /** The generic hostile values around any base name (fragments, leading characters, empty, dots, length). */
    public static List<Name> around(String base) {
        return dedupe(generate(base));
    }

    private static List<Name> generate(String base) {
        List<Name> out = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : FRAGMENTS.entrySet()) {
            for (String f : e.getValue()) {
                out.add(new Name(e.getKey() + " (prefix)", f + base));
                out.add(new Name(e.getKey() + " (inside)", base.charAt(0) + f + base.substring(1)));
                out.add(new Name(e.getKey() + " (suffix)", base + f));
            }
        }
        for (String f : LEADING) {
            out.add(new Name("leading dash, dot or underscore", f + base));
        }
        out.add(new Name("empty", ""));
        out.add(new Name("blank", " "));
        out.add(new Name("blank", "\t"));
        for (String dots : List.of(".", "..", "...", "....")) {
            out.add(new Name("only dots", dots));
        }
        out.add(new Name("length", "a".repeat(256)));
        out.add(new Name("length", "a".repeat(300)));
        out.add(new Name("length", "a".repeat(10_000)));
        out.add(new Name("length", base + "\u0430".repeat(300)));
        return out;
    }

    private static List<Name> dedupe(List<Name> names) {
        Set<String> seen = new LinkedHashSet<>();
        List<Name> out = new ArrayList<>();
        for (Name n : names) {
            if (seen.add(n.value())) {
                out.add(n);
            }
        }
        return out;
    }

    /** How many values of each category (the category without its position), for the report. */
    public static Map<String, Integer> countByCategory(List<Name> names) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (Name n : names) {
            m.merge(n.category().replaceAll(" \\((prefix|inside|suffix)\\)$", ""), 1, Integer::sum);
        }
        return m;
    }
}
