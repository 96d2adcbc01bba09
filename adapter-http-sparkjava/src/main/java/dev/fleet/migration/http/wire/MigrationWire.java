package dev.fleet.migration.http.wire;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fleet.migration.core.ArchiveInfo;
import dev.fleet.migration.core.Failure;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.Progress;
import dev.fleet.migration.core.Span;
import dev.fleet.migration.core.spi.OperationKind;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The control plane's wire form of a migration. States and operations are written lower-case
 * as the seed writes them; times are ISO-8601 instants; durations are milliseconds.
 *
 * <pre>{@code
 * {"id":"m-...","app":"web","source":"a","target":"b","state":"transferring","active":true,
 *  "version":7,"epoch":1,"createdAt":"...","updatedAt":"...",
 *  "steps":[{"state":"pending","startedAt":"...","endedAt":"...","durationMs":12}, ...],
 *  "operations":[{"operation":"snapshot","startedAt":"...","endedAt":"..."}, ...],
 *  "progress":{"bytesDone":512,"bytesTotal":1024,"bytesPerSecond":100.0,"fraction":0.5,"etaMs":5120},
 *  "archive":{"path":"...","size":1024,"sha256":"..."},
 *  "facts":{...}, "failing":null,
 *  "failure":{"reason":"...","failedIn":"restoring","compensation":{"outcome":"complete","actions":[...]}},
 *  "downtimeMs":830, "detail":"...", "links":{"self":"/api/migrations/m-..."}}
 * }</pre>
 */
public final class MigrationWire {
    /** The six steps of the success path, as the Control Panel's progress bar shows them. */
    public static final List<MigrationState> STEPS = List.of(MigrationState.PENDING, MigrationState.SNAPSHOTTING,
            MigrationState.TRANSFERRING, MigrationState.RESTORING, MigrationState.CUTOVER, MigrationState.DONE);

    private MigrationWire() {}

    public static ObjectNode toJson(Migration m) {
        ObjectNode o = Json.object();
        o.put("id", m.id().value());
        o.put("app", m.app().id());
        o.put("source", m.source().value());
        o.put("target", m.target().value());
        o.put("state", m.state().wireName());
        o.put("active", m.state().isActive());
        o.put("version", m.version());
        o.put("epoch", m.epoch());
        o.put("createdAt", m.createdAt().toString());
        o.put("updatedAt", m.updatedAt().toString());
        ArrayNode steps = o.putArray("steps");
        for (Map.Entry<MigrationState, Span> e : m.steps().entrySet()) {
            ObjectNode s = span(e.getValue());
            s.put("state", e.getKey().wireName());
            steps.add(s);
        }
        ArrayNode ops = o.putArray("operations");
        for (Map.Entry<OperationKind, Span> e : m.operations().entrySet()) {
            ObjectNode s = span(e.getValue());
            s.put("operation", e.getKey().wireName());
            ops.add(s);
        }
        o.set("progress", progress(m.progress()));
        if (m.archive().isPresent()) {
            o.set("archive", archive(m.archive().get()));
        } else {
            o.putNull("archive");
        }
        ObjectNode facts = o.putObject("facts");
        m.facts().forEach(facts::put);
        o.put("failing", m.failing().orElse(null));
        if (m.failure().isPresent()) {
            Failure f = m.failure().get();
            ObjectNode fo = o.putObject("failure");
            fo.put("reason", f.reason());
            fo.put("failedIn", f.failedIn().wireName());
            ObjectNode c = fo.putObject("compensation");
            c.put("outcome", f.compensation().outcome().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
            ArrayNode actions = c.putArray("actions");
            f.compensation().actions().forEach(actions::add);
        } else {
            o.putNull("failure");
        }
        if (m.downtime().isPresent()) {
            o.put("downtimeMs", m.downtime().get().toMillis());
        } else {
            o.putNull("downtimeMs");
        }
        o.put("detail", m.detail().orElse(null));
        ObjectNode links = o.putObject("links");
        String self = "/api/migrations/" + m.id().value();
        links.put("self", self);
        links.put("history", self + "/history");
        if (m.state().isActive()) {
            links.put("advance", self + "/advance");
            links.put("fail", self + "/fail");
        }
        return o;
    }

    /**
     * The listing's form of a migration: what a row shows (who, where, state, progress, the
     * failure's reason, the downtime, the detail) and the link to the whole record, about a
     * quarter of {@link #toJson(Migration)}'s size. Every field it has is the same as there.
     *
     * <pre>{@code
     * {"id":"m-...","app":"web","source":"a","target":"b","state":"transferring","active":true,
     *  "version":7,"createdAt":"...","updatedAt":"...","progress":{...},
     *  "failure":{"reason":"...","failedIn":"restoring"},"downtimeMs":null,"detail":"...",
     *  "links":{"self":"/api/migrations/m-..."}}
     * }</pre>
     */
    public static ObjectNode summary(Migration m) {
        ObjectNode o = Json.object();
        o.put("id", m.id().value());
        o.put("app", m.app().id());
        o.put("source", m.source().value());
        o.put("target", m.target().value());
        o.put("state", m.state().wireName());
        o.put("active", m.state().isActive());
        o.put("version", m.version());
        o.put("createdAt", m.createdAt().toString());
        o.put("updatedAt", m.updatedAt().toString());
        o.set("progress", progress(m.progress()));
        if (m.failure().isPresent()) {
            ObjectNode fo = o.putObject("failure");
            fo.put("reason", m.failure().get().reason());
            fo.put("failedIn", m.failure().get().failedIn().wireName());
        } else {
            o.putNull("failure");
        }
        if (m.downtime().isPresent()) {
            o.put("downtimeMs", m.downtime().get().toMillis());
        } else {
            o.putNull("downtimeMs");
        }
        o.put("detail", m.detail().orElse(null));
        o.putObject("links").put("self", "/api/migrations/" + m.id().value());
        return o;
    }

    public static ArrayNode toJson(List<Migration> ms) {
        ArrayNode a = Json.array();
        for (Migration m : ms) {
            a.add(toJson(m));
        }
        return a;
    }

    public static ObjectNode progress(Progress p) {
        ObjectNode o = Json.object();
        o.put("bytesDone", p.bytesDone());
        o.put("bytesTotal", p.bytesTotal());
        o.put("bytesPerSecond", p.bytesPerSecond());
        o.put("fraction", p.fraction());
        if (p.eta().isPresent()) {
            o.put("etaMs", p.eta().get().toMillis());
        } else {
            o.putNull("etaMs");
        }
        return o;
    }

    public static ObjectNode archive(ArchiveInfo a) {
        ObjectNode o = Json.object();
        o.put("path", a.path());
        o.put("size", a.size());
        o.put("sha256", a.sha256());
        return o;
    }

    private static ObjectNode span(Span s) {
        ObjectNode o = Json.object();
        o.put("startedAt", s.start().toString());
        o.put("endedAt", s.end().map(Object::toString).orElse(null));
        Duration d = s.duration().orElse(null);
        if (d != null) {
            o.put("durationMs", d.toMillis());
        } else {
            o.putNull("durationMs");
        }
        return o;
    }

    public static ObjectNode node(NodeId id, String agentUrl) {
        ObjectNode o = Json.object();
        o.put("id", id.value());
        if (agentUrl != null) {
            o.put("agentUrl", agentUrl);
        }
        return o;
    }
}
