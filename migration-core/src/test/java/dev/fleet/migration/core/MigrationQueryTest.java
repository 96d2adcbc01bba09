package dev.fleet.migration.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.testing.Migrations;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class MigrationQueryTest {
    @Test
    @DisplayName("a limit outside 1..1000 is refused, naming limit, the rule and the value")
    void rejectsLimitOutOfRange() {
        assertThatThrownBy(() -> MigrationQuery.firstPage().withLimit(0))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("limit must be between 1 and 1000, but was '0'")
                .satisfies(e -> assertThat(((InvalidInputException) e).field()).isEqualTo("limit"));
        assertThatThrownBy(() -> MigrationQuery.firstPage().withLimit(1001))
                .hasMessage("limit must be between 1 and 1000, but was '1001'");
        assertThat(MigrationQuery.firstPage().withLimit(1000).limit()).isEqualTo(MigrationQuery.MAX_LIMIT);
    }

    @Test
    @DisplayName("a negative offset is refused, naming offset")
    void rejectsNegativeOffset() {
        assertThatThrownBy(() -> MigrationQuery.firstPage().withOffset(-1))
                .isInstanceOf(InvalidInputException.class)
                .hasMessage("offset must be 0 or more, but was '-1'");
    }

    @Test
    @DisplayName("the default page is the newest 50 of every state; active is every state but done and failed")
    void defaultsAndStateSets() {
        MigrationQuery q = MigrationQuery.firstPage();
        assertThat(q.limit()).isEqualTo(50);
        assertThat(q.offset()).isZero();
        assertThat(q.everyState()).isTrue();
        assertThat(q.withStates(EnumSet.allOf(MigrationState.class)).everyState()).isTrue();
        assertThat(q.withStates(MigrationQuery.ACTIVE).activeOnly()).isTrue();
        assertThat(q.withStates(Set.of(MigrationState.PENDING)).activeOnly()).isFalse();
        assertThat(MigrationQuery.ACTIVE).doesNotContain(MigrationState.DONE, MigrationState.FAILED).hasSize(5);
        assertThat(MigrationQuery.TERMINAL).containsExactlyInAnyOrder(MigrationState.DONE, MigrationState.FAILED);
    }

    @Test
    @DisplayName("matches applies the states and the app, and the window does not matter")
    void matchesStatesAndApp() {
        Migration web = Migrations.pending("m-1", "web", Instant.parse("2026-01-01T00:00:00Z"));
        MigrationQuery q = new MigrationQuery(Set.of(MigrationState.PENDING), Optional.of(AppRef.parse("web")), 5, 1);
        assertThat(q.matches(web)).isTrue();
        assertThat(q.withApp(AppRef.parse("compose:web")).matches(web)).isFalse();
        assertThat(q.withStates(MigrationQuery.TERMINAL).matches(web)).isFalse();
        assertThat(q.withStates(List.of()).matches(web)).isTrue();
    }

    @Test
    @DisplayName("a page has more only while matches remain, and an empty page never has more")
    void pageHasMoreUntilTheEnd() {
        Migration m = Migrations.pending("m-1", "web", Instant.parse("2026-01-01T00:00:00Z"));
        MigrationQuery q = MigrationQuery.firstPage().withLimit(1);
        assertThat(new MigrationPage(List.of(m), 2, q).hasMore()).isTrue();
        assertThat(new MigrationPage(List.of(m), 2, q).next().offset()).isEqualTo(1);
        assertThat(new MigrationPage(List.of(m), 2, q.withOffset(1)).hasMore()).isFalse();
        assertThat(new MigrationPage(List.of(), 5, q.withOffset(1)).hasMore()).isFalse();
    }
}
