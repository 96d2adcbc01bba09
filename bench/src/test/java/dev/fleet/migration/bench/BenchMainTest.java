package dev.fleet.migration.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchMainTest {
    @Test
    void everyNameIsCreatableWithoutItsServicesAndNamesItself() {
        for (String name : BenchMain.names()) {
            Benchmark b = BenchMain.create(name);
            assertThat(b.name()).as("the benchmark created for %s", name).isEqualTo(name);
            assertThat(Benchmark.SERVICES).as("the services %s needs", name).containsAll(b.services());
        }
        assertThat(new HashSet<>(BenchMain.names())).hasSameSizeAs(BenchMain.names());
    }

    @Test
    void anUnknownNameIsRefusedWithEveryName() {
        assertThatThrownBy(() -> BenchMain.create("nope"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'nope'")
                .hasMessageEndingWith(String.join(", ", BenchMain.names()));
    }

    @Test
    void eachServiceHasItsScriptInCi() {
        // surefire runs in bench/; bench/run.sh starts scripts/ci/services/NAME.sh
        for (String s : Benchmark.SERVICES) {
            assertThat(Path.of("..", "scripts", "ci", "services", s + ".sh")).isRegularFile();
        }
    }

    @Test
    void theServicesOfSeveralBenchmarksAreTheirUnionInStartOrder() {
        assertThat(BenchMain.services(List.of(BenchMain.create("cutover"), BenchMain.create("transport"),
                BenchMain.create("scale")))).containsExactly("docker", "ssh", "proxy");
        assertThat(BenchMain.services(List.of(BenchMain.create("core"), BenchMain.create("http")))).isEmpty();
        assertThat(BenchMain.services(BenchMain.names().stream().map(BenchMain::create).toList()))
                .containsExactlyElementsOf(Benchmark.SERVICES);
    }

    @Test
    void aTableCellStaysOnOneLineAndKeepsItsPipes() {
        String table = BenchMain.markdown(List.of(new Figure("x", "did not run: a | b\n  at c", Double.NaN, "", Double.NaN,
                "—", "runs", false)));
        assertThat(table.lines()).hasSize(3);
        assertThat(table).contains("did not run: a \\| b at c | — | — | — | runs | **no** |");
    }

    @Test
    void aPairedRatioIsKeptAndAPlainOneIsValueOverBaseline() {
        assertThat(new Figure("t", "m", 90, "MiB/s", 100, "b", 0.93, "≥ 0.9×", true).ratio()).isEqualTo(0.93);
        assertThat(new Figure("t", "m", 90, "MiB/s", 100, "b", "≥ 0.9×", true).ratio()).isEqualTo(0.9);
        assertThat(new Figure("t", "m", 90, "MiB", Double.NaN, "—", "< 64 MiB", true).ratio()).isNaN();
    }
}
