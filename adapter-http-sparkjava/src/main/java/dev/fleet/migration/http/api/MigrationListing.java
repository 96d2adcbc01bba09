package dev.fleet.migration.http.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.InvalidInputException;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationPage;
import dev.fleet.migration.core.MigrationQuery;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.Names;
import dev.fleet.migration.core.Orchestrator;
import dev.fleet.migration.http.problem.Problems;
import dev.fleet.migration.http.wire.Json;
import dev.fleet.migration.http.wire.MigrationWire;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import spark.Request;
import spark.Response;

/**
 * {@code GET /api/migrations}: one page of migrations, newest first.
 *
 * <pre>
 * GET /api/migrations?state=active&amp;app=web&amp;limit=100&amp;offset=0
 * 200 application/json: [ {migration summary}, ... ]   (the page: a JSON array, as before)
 * X-Total-Count: 10000                                  (matches over every page)
 * Link: &lt;/api/migrations?limit=100&amp;offset=100&gt;; rel="next", &lt;...&gt;; rel="first", ...
 * </pre>
 *
 * <ul>
 *   <li>{@code state}: {@code active} (not done or failed), {@code terminal} (done or failed), a
 *       state ({@code pending} ... {@code failed}), or several joined by commas; default every state</li>
 *   <li>{@code app}: one app id ({@code web}, {@code compose:shop}); default every app</li>
 *   <li>{@code limit}: 1 to {@value MigrationQuery#MAX_LIMIT}, default {@value MigrationQuery#DEFAULT_LIMIT}</li>
 *   <li>{@code offset}: how many matches to skip, default 0</li>
 *   <li>{@code view}: {@code summary} (the default: {@link MigrationWire#summary}, what a row
 *       shows, a quarter of the size) or {@code full} (each whole record, as
 *       {@code GET /api/migrations/{id}} answers it)</li>
 * </ul>
 *
 * A bad or unknown parameter, or one given twice, answers 400 {@code application/problem+json}
 * of type {@code urn:fleet:problem:invalid-query-parameter}, with {@code parameter} naming it.
 */
final class MigrationListing {
    static final String PATH = "/api/migrations";
    static final String INVALID_PARAMETER = Problems.TYPE_PREFIX + "invalid-query-parameter";
    static final String TOTAL_HEADER = "X-Total-Count";
    private static final Set<String> PARAMETERS = Set.of("state", "app", "limit", "offset", "view");
    private static final String STATE_RULE = "must be active, terminal, or states among pending, snapshotting,"
            + " transferring, restoring, cutover, done, failed joined by commas";

    /** Wire forms kept per saved version: the newest pages and the active migrations, typically. */
    private static final int WIRE_CACHE = 4096;

    private final Orchestrator orchestrator;
    /**
     * Each migration's wire JSON (UTF-8) as last written, by id, with the version it was
     * written from. A saved version never changes, so an entry whose version matches is never
     * stale; a lock-free map, emptied when it outgrows {@link #WIRE_CACHE}.
     */
    private final ConcurrentHashMap<String, Wire> summaries = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Wire> records = new ConcurrentHashMap<>();

    private record Wire(long version, byte[] json) {}

    /** Whole answers kept, by listing: the pages clients poll (the panel's, the first pages), typically a few. */
    private static final int ANSWER_CACHE = 256;

    /**
     * Whole answers by request, each with the change stamp read before its page. The bytes are
     * shared between requests and never written to after they are kept.
     */
    private final ConcurrentHashMap<Listing, Answer> answers = new ConcurrentHashMap<>();

    /** One answer: its headers' values and its body. */
    record Answer(long stamp, long total, String links, byte[] json) {}

    /** What a request asks for: the query, and whether the whole records ({@code view=full}) or summaries. */
    record Listing(MigrationQuery query, boolean full) {}

    MigrationListing(Orchestrator orchestrator) {
        this.orchestrator = orchestrator;
    }

    /** The route. */
    Object answer(Request req, Response res) {
        Listing listing;
        try {
            listing = parse(req.raw().getParameterMap());
        } catch (InvalidParameter e) {
            ObjectNode p = Problems.problem(400, INVALID_PARAMETER, "Invalid query parameter", e.getMessage());
            p.put("parameter", e.parameter);
            res.status(400);
            res.type(Problems.CONTENT_TYPE);
            return Json.write(p);
        }
        Answer answer = answer(listing);
        res.header(TOTAL_HEADER, Long.toString(answer.total()));
        if (!answer.links().isEmpty()) {
            res.header("Link", answer.links());
        }
        res.type("application/json");
        return answer.json();
    }

    /**
     * The answer to one listing: kept from an earlier request while the store's change stamp,
     * read before that request's page, is still the current one (nothing was saved since, by
     * this control plane or another writing the same database), else read and kept afresh.
     */
    Answer answer(Listing listing) {
        OptionalLong stamp = orchestrator.changeStamp();
        if (stamp.isPresent()) {
            Answer kept = answers.get(listing);
            if (kept != null && kept.stamp() == stamp.getAsLong()) {
                return kept;
            }
        }
        MigrationPage page = orchestrator.list(listing.query());
        Answer answer = new Answer(stamp.orElse(Long.MIN_VALUE), page.total(), links(page, listing.full()),
                json(page.migrations(), listing.full()));
        if (stamp.isPresent()) {
            if (answers.size() >= ANSWER_CACHE) {
                answers.clear(); // rare: many distinct filters and offsets; start afresh
            }
            answers.put(listing, answer);
        }
        return answer;
    }

    /**
     * The page as a JSON array of {@link MigrationWire#summary} or, full, {@link MigrationWire#toJson}
     * forms, in UTF-8: the same bytes {@code Json.write} would give, copied once into an array of
     * the exact size (Spark writes a byte[] as it is).
     */
    byte[] json(List<Migration> migrations, boolean full) {
        ConcurrentHashMap<String, Wire> cache = full ? records : summaries;
        byte[][] parts = new byte[migrations.size()][];
        int size = 2 + Math.max(0, migrations.size() - 1);
        for (int i = 0; i < parts.length; i++) {
            Migration m = migrations.get(i);
            Wire w = cache.get(m.id().value());
            if (w == null || w.version() != m.version()) {
                w = new Wire(m.version(), Json.write(full ? MigrationWire.toJson(m) : MigrationWire.summary(m))
                        .getBytes(StandardCharsets.UTF_8));
                if (cache.size() >= WIRE_CACHE) {
                    cache.clear(); // rare: more distinct migrations listed than kept; start afresh
                }
                cache.put(m.id().value(), w);
            }
            parts[i] = w.json();
            size += parts[i].length;
        }
        byte[] out = new byte[size];
        int at = 0;
        out[at++] = '[';
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                out[at++] = ',';
            }
            System.arraycopy(parts[i], 0, out, at, parts[i].length);
            at += parts[i].length;
        }
        out[at] = ']';
        return out;
    }

    /** Reads the query parameters; every failure names its parameter. */
    static Listing parse(Map<String, String[]> params) {
        for (Map.Entry<String, String[]> e : params.entrySet()) {
            if (!PARAMETERS.contains(e.getKey())) {
                throw new InvalidParameter(e.getKey(), "unknown query parameter " + Names.quote(e.getKey())
                        + "; the listing takes " + String.join(", ", new TreeSet<>(PARAMETERS)));
            }
            if (e.getValue() != null && e.getValue().length > 1) {
                throw new InvalidParameter(e.getKey(), e.getKey() + " is given " + e.getValue().length
                        + " times; give it once");
            }
        }
        MigrationQuery q = MigrationQuery.firstPage();
        String state = single(params, "state");
        if (state != null && !state.isEmpty()) {
            q = q.withStates(states(state));
        }
        String app = single(params, "app");
        if (app != null && !app.isEmpty()) {
            try {
                q = q.withApp(AppRef.parse(app));
            } catch (InvalidInputException e) {
                throw new InvalidParameter("app", "app must be an app id (a container name or compose:<project>): "
                        + e.getMessage());
            }
        }
        q = q.withLimit(integer(params, "limit", 1, MigrationQuery.MAX_LIMIT, MigrationQuery.DEFAULT_LIMIT));
        q = q.withOffset(integer(params, "offset", 0, Integer.MAX_VALUE, 0));
        String view = single(params, "view");
        if (view != null && !view.isEmpty() && !view.equals("summary") && !view.equals("full")) {
            throw new InvalidParameter("view", "view must be summary or full, but was " + Names.quote(view));
        }
        return new Listing(q, "full".equals(view));
    }

    private static Set<MigrationState> states(String value) {
        Set<MigrationState> states = EnumSet.noneOf(MigrationState.class);
        for (String part : value.split(",", -1)) {
            String s = part.trim();
            if (s.equals("active")) {
                states.addAll(MigrationQuery.ACTIVE);
            } else if (s.equals("terminal")) {
                states.addAll(MigrationQuery.TERMINAL);
            } else {
                try {
                    states.add(MigrationState.fromWireName(s));
                } catch (InvalidInputException e) {
                    throw new InvalidParameter("state", "state " + STATE_RULE + ", but was " + Names.quote(value));
                }
            }
        }
        return states;
    }

    private static int integer(Map<String, String[]> params, String name, int min, int max, int fallback) {
        String v = single(params, name);
        if (v == null || v.isEmpty()) {
            return fallback;
        }
        String rule = max == Integer.MAX_VALUE ? "must be a whole number, 0 or more"
                : "must be a whole number from " + min + " to " + max;
        long n;
        try {
            n = v.length() > 12 ? Long.MAX_VALUE : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new InvalidParameter(name, name + " " + rule + ", but was " + Names.quote(v));
        }
        if (n < min || n > max) {
            throw new InvalidParameter(name, name + " " + rule + ", but was " + Names.quote(v));
        }
        return (int) n;
    }

    private static String single(Map<String, String[]> params, String name) {
        String[] v = params.get(name);
        return v == null || v.length == 0 ? null : v[0];
    }

    /** RFC 8288 links to the first, previous, next and last pages, with the same filter and limit. */
    static String links(MigrationPage page, boolean full) {
        MigrationQuery q = page.query();
        List<String> links = new ArrayList<>();
        if (page.hasMore()) {
            links.add(link(q.withOffset(q.offset() + page.migrations().size()), full, "next"));
        }
        if (q.offset() > 0) {
            links.add(link(q.withOffset(Math.max(0, q.offset() - q.limit())), full, "prev"));
            links.add(link(q.withOffset(0), full, "first"));
        }
        if (page.total() > q.offset() + (long) page.migrations().size() && page.total() > q.limit()) {
            long last = (page.total() - 1) / q.limit() * q.limit();
            if (last <= Integer.MAX_VALUE) {
                links.add(link(q.withOffset((int) last), full, "last"));
            }
        }
        return String.join(", ", links);
    }

    private static String link(MigrationQuery q, boolean full, String rel) {
        StringBuilder sb = new StringBuilder("<").append(PATH).append('?');
        if (!q.everyState()) {
            sb.append("state=").append(stateParam(q.states())).append('&');
        }
        q.app().ifPresent(a -> sb.append("app=").append(URLEncoder.encode(a.id(), StandardCharsets.UTF_8)).append('&'));
        sb.append("limit=").append(q.limit()).append("&offset=").append(q.offset());
        return sb.append(full ? "&view=full" : "").append(">; rel=\"").append(rel).append('"').toString();
    }

    private static String stateParam(Set<MigrationState> states) {
        if (states.equals(MigrationQuery.ACTIVE)) {
            return "active";
        }
        if (states.equals(MigrationQuery.TERMINAL)) {
            return "terminal";
        }
        List<String> names = new ArrayList<>();
        for (MigrationState s : states) {
            names.add(s.wireName());
        }
        return String.join(",", names);
    }

    /** A query parameter the listing cannot take; answered as 400 naming it. */
    static final class InvalidParameter extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final String parameter;

        InvalidParameter(String parameter, String detail) {
            super(detail, null, false, false);
            this.parameter = parameter;
        }
    }
}
