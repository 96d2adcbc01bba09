package dev.fleet.migration.storage.cow.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.InvalidInputException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CowNamesTest {
    @Test
    void acceptsOrdinaryDatasetAndSnapshotNames() {
        assertThat(CowNames.zfsSnapshot("tank/docker/vol-1_a.b", "m-1.first")).isEqualTo("tank/docker/vol-1_a.b@m-1.first");
    }

    @Test
    void rejectsZfsNamesWithSpacesAndColonsThatZfsItselfWouldAccept() {
        for (String ds : new String[] {"tank/my vol", "tank/a:b", "tank/-x", "tank//x", "tank/x/", "-tank", "tank/.x",
                "tank/a%recv", "tank/a@b", "tank/a\nb"}) {
            assertThatThrownBy(() -> CowNames.dataset("dataset", ds)).as(ds).isInstanceOf(InvalidInputException.class);
        }
        assertThatThrownBy(() -> CowNames.zfsSnapshot("tank/v", "a:b")).hasMessageContaining("snapshot must match");
    }

    @Test
    void rejectsTooLongFullNames() {
        assertThatThrownBy(() -> CowNames.zfsSnapshot("tank/" + "v".repeat(200), "s".repeat(60)))
                .hasMessageContaining("at most 255");
    }

    @Test
    void rejectsPropertyPathsThatCouldBreakTheAssignment() {
        assertThat(CowNames.propertyPath("p", Path.of("/srv/.fleet-snapshots/v@t"))).isEqualTo("/srv/.fleet-snapshots/v@t");
        for (String p : new String[] {"/a b", "/a,b", "relative", "/a/../b", "/a\tb"}) {
            assertThatThrownBy(() -> CowNames.propertyPath("p", Path.of(p))).as(p).isInstanceOf(InvalidInputException.class);
        }
    }

    @Test
    void leafMustBeAPlainComponent() {
        assertThat(CowNames.leaf("d", Path.of("/srv/vol1"))).isEqualTo("vol1");
        assertThatThrownBy(() -> CowNames.leaf("d", Path.of("/srv/-F"))).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> CowNames.leaf("d", Path.of("/"))).isInstanceOf(InvalidInputException.class);
    }
}
