package dev.fleet.migration.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs every benchmark (or those named on the command line), prints one table, and writes it
 * to {@code bench/results/report.md} and {@code report.json} (or the directory in
 * {@code -Dbench.out}).
 */
public final class BenchMain {
    private BenchMain() {}

    /** Every benchmark, by name; the docker one is created only when asked for (it needs the engines). */
    static List<String> names() {
        return List.of("core", "docker", "http", "ui", "scale");
    }

    static Benchmark create(String name) {
        return switch (name) {
            case "core" -> new CoreBenchmark();
            case "docker" -> new DockerBenchmark();
            case "http" -> new HttpBenchmark();
            case "ui" -> new UiBenchmark();
            case "scale" -> new ScaleBenchmark();
            default -> throw new IllegalArgumentException("no benchmark named " + name + "; there are " + names());
        };
    }

    public static void main(String[] args) throws Exception {
        List<Benchmark> chosen = new ArrayList<>();
        for (String name : args.length == 0 ? names() : List.of(args)) {
            chosen.add(create(name));
        }
        List<Figure> figures = new ArrayList<>();
        for (Benchmark b : chosen) {
            System.out.println("== " + b.name());
            figures.addAll(b.run());
        }
        String table = markdown(figures);
        System.out.println();
        System.out.println(table);
        Path out = Path.of(System.getProperty("bench.out", "bench/results"));
        Files.createDirectories(out);
        Files.writeString(out.resolve("report.md"), "# Benchmark report\n\n" + table);
        List<Map<String, Object>> json = new ArrayList<>();
        for (Figure f : figures) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("benchmark", f.benchmark());
            row.put("metric", f.metric());
            row.put("value", f.value());
            row.put("unit", f.unit());
            row.put("baseline", Double.isNaN(f.baseline()) ? null : f.baseline());
            row.put("baselineName", f.baselineName());
            row.put("ratio", Double.isNaN(f.ratio()) ? null : f.ratio());
            row.put("target", f.target());
            row.put("met", f.met());
            json.add(row);
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("report.json").toFile(), json);
        System.out.println("written: " + out.resolve("report.md") + ", " + out.resolve("report.json"));
        if (figures.stream().anyMatch(f -> !f.met())) {
            System.out.println("some targets are not met (see the table)");
        }
    }

    static String markdown(List<Figure> figures) {
        StringBuilder sb = new StringBuilder();
        sb.append("| benchmark | metric | value | baseline | ratio | target | met |\n");
        sb.append("|---|---|---:|---|---:|---|---|\n");
        for (Figure f : figures) {
            sb.append("| ").append(f.benchmark())
                    .append(" | ").append(f.metric())
                    .append(" | ").append(num(f.value())).append(' ').append(f.unit())
                    .append(" | ").append(Double.isNaN(f.baseline()) ? "—"
                            : num(f.baseline()) + " " + f.unit() + " (" + f.baselineName() + ")")
                    .append(" | ").append(Double.isNaN(f.ratio()) ? "—" : String.format(Locale.ROOT, "%.2f×", f.ratio()))
                    .append(" | ").append(f.target())
                    .append(" | ").append(f.met() ? "yes" : "**no**")
                    .append(" |\n");
        }
        return sb.toString();
    }

    static String num(double v) {
        if (Math.abs(v) >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
