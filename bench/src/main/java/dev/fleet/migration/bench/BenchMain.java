package dev.fleet.migration.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Runs every benchmark (or those named on the command line), prints one table, and writes it
 * to {@code bench/results/report.md} and {@code report.json} (or the directory in
 * {@code -Dbench.out}).
 *
 * <p>{@code BenchMain --services [NAME...]} runs nothing: it prints, one a line, the services
 * from {@code scripts/ci/services/} those benchmarks (default: all) need, in the order to start
 * them; bench/run.sh starts exactly those. {@code BenchMain --list} prints the names.
 */
public final class BenchMain {
    private BenchMain() {}

    /**
     * Every benchmark, by name, in the order they run. The one place a benchmark is registered:
     * {@link #names()}, {@link #create} and its error message, and bench/run.sh (through
     * {@code --services}) all read it.
     */
    private static final Map<String, Supplier<Benchmark>> BENCHMARKS = new LinkedHashMap<>();

    static {
        BENCHMARKS.put("core", CoreBenchmark::new);
        BENCHMARKS.put("docker", DockerBenchmark::new);
        BENCHMARKS.put("http", HttpBenchmark::new);
        BENCHMARKS.put("ui", UiBenchmark::new);
        BENCHMARKS.put("scale", ScaleBenchmark::new);
        BENCHMARKS.put("transport", TransportBenchmark::new);
        BENCHMARKS.put("cow", CowBenchmark::new);
        BENCHMARKS.put("cowagent", CowAgentBenchmark::new);
        BENCHMARKS.put("router", RouterBenchmark::new);
        BENCHMARKS.put("cutover", CutoverBenchmark::new);
    }

    /** Every benchmark's name, in the order they run. */
    static List<String> names() {
        return List.copyOf(BENCHMARKS.keySet());
    }

    /** Creates the benchmark; cheap, and needs no service (each reads its variables when it runs). */
    static Benchmark create(String name) {
        Supplier<Benchmark> b = BENCHMARKS.get(name);
        if (b == null) {
            throw new IllegalArgumentException("no benchmark named '" + name + "'; there are "
                    + String.join(", ", names()));
        }
        return b.get();
    }

    /** The services {@code chosen} need, each once, in {@link Benchmark#SERVICES}' order. */
    static List<String> services(List<Benchmark> chosen) {
        Set<String> wanted = new LinkedHashSet<>();
        for (Benchmark b : chosen) {
            for (String s : b.services()) {
                if (!Benchmark.SERVICES.contains(s)) {
                    throw new IllegalStateException(b.name() + " needs an unknown service " + s);
                }
                wanted.add(s);
            }
        }
        return Benchmark.SERVICES.stream().filter(wanted::contains).toList();
    }

    public static void main(String[] args) throws Exception {
        List<String> named = new ArrayList<>(List.of(args));
        boolean listServices = !named.isEmpty() && named.get(0).equals("--services");
        if (!named.isEmpty() && named.get(0).equals("--list")) {
            names().forEach(System.out::println);
            return;
        }
        if (listServices) {
            named.remove(0);
        }
        List<Benchmark> chosen = new ArrayList<>();
        try {
            for (String name : named.isEmpty() ? names() : named) {
                chosen.add(create(name));
            }
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.exit(2);
        }
        if (listServices) {
            services(chosen).forEach(System.out::println);
            return;
        }
        List<Figure> figures = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (Benchmark b : chosen) {
            System.out.println("== " + b.name());
            try {
                figures.addAll(b.run());
            } catch (Exception | AssertionError e) {
                // one benchmark that cannot run does not cost the figures of the others
                e.printStackTrace();
                failed.add(b.name());
                figures.add(new Figure(b.name(), "did not run: " + e, Double.NaN, "", Double.NaN, "—",
                        "runs to the end", false));
            }
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
            row.put("value", Double.isNaN(f.value()) ? null : f.value());
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
        if (!failed.isEmpty()) {
            System.out.println("these benchmarks did not run to the end: " + String.join(", ", failed));
            System.exit(1);
        }
    }

    static String markdown(List<Figure> figures) {
        StringBuilder sb = new StringBuilder();
        sb.append("| benchmark | metric | value | baseline | ratio | target | met |\n");
        sb.append("|---|---|---:|---|---:|---|---|\n");
        for (Figure f : figures) {
            sb.append("| ").append(cell(f.benchmark()))
                    .append(" | ").append(cell(f.metric()))
                    .append(" | ").append(Double.isNaN(f.value()) ? "—" : num(f.value()) + " " + f.unit())
                    .append(" | ").append(Double.isNaN(f.baseline()) ? "—"
                            : num(f.baseline()) + " " + f.unit() + " (" + cell(f.baselineName()) + ")")
                    .append(" | ").append(Double.isNaN(f.ratio()) ? "—" : String.format(Locale.ROOT, "%.2f×", f.ratio()))
                    .append(" | ").append(cell(f.target()))
                    .append(" | ").append(f.met() ? "yes" : "**no**")
                    .append(" |\n");
        }
        return sb.toString();
    }

    /** Text for one table cell: on one line, its pipes escaped. */
    static String cell(String text) {
        return text.replaceAll("\\s*\\R\\s*", " ").replace("|", "\\|");
    }

    static String num(double v) {
        if (Math.abs(v) >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        return String.format(Locale.ROOT, "%.3f", v);
    }
}
