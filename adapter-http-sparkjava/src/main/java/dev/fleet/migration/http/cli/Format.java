package dev.fleet.migration.http.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;

/** How the CLI writes bytes, rates, durations and the one-line progress bar. */
final class Format {
    private static final java.util.List<String> STEPS =
            java.util.List.of("pending", "snapshotting", "transferring", "restoring", "cutover", "done");

    private Format() {}

    static String bytes(long n) {
        return dev.fleet.migration.core.ByteSizes.of(n);
    }

    static String duration(long ms) {
        long s = Math.max(0, (ms + 999) / 1000);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    /**
     * One line: id, state, a bar over the six steps (the running step's bytes fill its share),
     * bytes done/total, rate and ETA.
     * {@code m-1  transferring  [##########>-------]  3/6  512.0 MiB / 1.0 GiB  32.0 MiB/s  ETA 0:16}
     */
    static String progressLine(JsonNode m) {
        String state = m.path("state").asText();
        JsonNode p = m.path("progress");
        int step = STEPS.indexOf(state);
        double fraction = p.path("fraction").asDouble(0);
        int width = 24;
        double done = state.equals("done") ? 1.0 : step < 0 ? 0 : (step + fraction) / (STEPS.size() - 1);
        int filled = (int) Math.round(done * width);
        StringBuilder bar = new StringBuilder("[");
        for (int i = 0; i < width; i++) {
            bar.append(i < filled ? '#' : i == filled && m.path("active").asBoolean() ? '>' : '-');
        }
        bar.append(']');
        StringBuilder sb = new StringBuilder();
        sb.append(m.path("id").asText()).append("  ").append(String.format(Locale.ROOT, "%-12s", state)).append("  ")
                .append(bar);
        long total = p.path("bytesTotal").asLong();
        if (total > 0 && m.path("active").asBoolean()) {
            sb.append("  ").append(bytes(p.path("bytesDone").asLong())).append(" / ").append(bytes(total));
            double rate = p.path("bytesPerSecond").asDouble();
            if (rate > 0) {
                sb.append("  ").append(bytes((long) rate)).append("/s");
            }
            if (p.hasNonNull("etaMs")) {
                sb.append("  ETA ").append(duration(p.get("etaMs").asLong()));
            }
        }
        return sb.toString();
    }

    /** One row of {@code fleet list}. */
    static String row(JsonNode m) {
        String tail = m.hasNonNull("failure") ? m.get("failure").path("reason").asText()
                : m.hasNonNull("detail") ? m.get("detail").asText() : "";
        return String.format(Locale.ROOT, "%-26s %-20s %-8s %-8s %-13s %s", m.path("id").asText(),
                m.path("app").asText(), m.path("source").asText(), m.path("target").asText(),
                m.path("state").asText(), tail).stripTrailing();
    }

    static String header() {
        return String.format(Locale.ROOT, "%-26s %-20s %-8s %-8s %-13s %s", "ID", "APP", "FROM", "TO", "STATE",
                "DETAIL").stripTrailing();
    }
}
