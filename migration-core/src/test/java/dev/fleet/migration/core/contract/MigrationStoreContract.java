package dev.fleet.migration.core.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.ActiveMigrationExistsException;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.Compensation;
import dev.fleet.migration.core.ConflictException;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationEvent;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.MigrationNotFoundException;
import dev.fleet.migration.core.MigrationPage;
import dev.fleet.migration.core.MigrationQuery;
import dev.fleet.migration.core.MigrationState;
import dev.fleet.migration.core.StaleVersionException;
import dev.fleet.migration.core.spi.MigrationStore;
import dev.fleet.migration.core.spi.OperationKind;
import dev.fleet.migration.core.testing.Migrations;
import dev.fleet.migration.core.testing.MutableClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * What every {@link MigrationStore} must do. Subclass it with a method that returns a new,
 * empty store; the subclass is the whole test.
 */
public abstract class MigrationStoreContract {
    protected final MutableClock clock = MutableClock.at("2026-01-01T00:00:00Z");
    protected MigrationStore store;

    /** A new, empty store. Called before every test. */
    protected abstract MigrationStore newStore();

    @BeforeEach
    void makeStore() {
        store = newStore();
    }

    private Migration pending(String id, String app) {
        clock.advance(Duration.ofMillis(1));
        return Migrations.pending(id, app, clock.instant());
    }

    private Migration next(Migration m, MigrationEvent e) {
        clock.advance(Duration.ofMillis(1));
        return Migrations.apply(m, e, clock);
    }

    @Nested
    @DisplayName("insert and find")
    class InsertAndFind {
        @Test
        @DisplayName("a saved migration reads back equal, field for field")
        void roundTripsEveryField() {
            Migration inserted = pending("m-1", "web");
            store.insert(inserted);
            assertThat(store.find(MigrationId.of("m-1"))).contains(inserted);
        }

        @Test
        @DisplayName("a rich record (operations, archive, facts, failure, downtime) survives the round trip")
        void roundTripsARichRecord() {
            Migration m = pending("m-rich", "compose:shop");
            store.insert(m);
            m = save(m, new MigrationEvent.Advanced(Map.of("app.port", "8080")));
            m = save(m, new MigrationEvent.OperationStarted(OperationKind.SNAPSHOT));
            m = save(m, new MigrationEvent.ProgressReported(new dev.fleet.migration.core.Progress(10, 100, 5.5)));
            m = save(m, Migrations.finished(OperationKind.SNAPSHOT, Optional.of(Migrations.archive("m-rich"))));
            m = save(m, new MigrationEvent.Waiting("retrying: node b is unavailable: \u00e9t\u00e9 \"quoted\""));
            m = save(m, new MigrationEvent.FailureRequested("aborted: by test"));
            assertThat(store.find(m.id())).as("a failing migration keeps its reason").contains(m);
            m = save(m, new MigrationEvent.Failed("aborted: by test", new Compensation(
                    Compensation.Outcome.COMPLETE, List.of("source a: removed archive"))));
            assertThat(store.find(m.id())).contains(m);
        }

        @Test
        @DisplayName("an unknown id finds nothing")
        void unknownIdFindsNothing() {
            assertThat(store.find(MigrationId.of("m-none"))).isEmpty();
            assertThat(store.history(MigrationId.of("m-none"))).isEmpty();
        }

        @Test
        @DisplayName("the same id cannot be inserted twice")
        void rejectsDuplicateId() {
            store.insert(pending("m-1", "web"));
            assertThatThrownBy(() -> store.insert(pending("m-1", "other")))
                    .isInstanceOf(ConflictException.class);
            assertThat(store.list()).hasSize(1);
        }
    }

    @Nested
    @DisplayName("one active migration per app")
    class OneActivePerApp {
        @Test
        @DisplayName("a second active migration of the same app is refused, naming the first")
        void rejectsSecondActiveMigration() {
            store.insert(pending("m-1", "web"));
            assertThatThrownBy(() -> store.insert(pending("m-2", "web")))
                    .isInstanceOf(ActiveMigrationExistsException.class)
                    .hasMessageContaining("m-1");
            assertThat(store.find(MigrationId.of("m-2"))).isEmpty();
        }

        @Test
        @DisplayName("once the first has ended, the app may migrate again")
        void allowsNewMigrationAfterTerminal() {
            Migration m = pending("m-1", "web");
            store.insert(m);
            save(m, new MigrationEvent.Failed("aborted", Compensation.NOT_NEEDED));
            store.insert(pending("m-2", "web"));
            assertThat(store.active()).extracting(Migration::id).containsExactly(MigrationId.of("m-2"));
        }

        @Test
        @DisplayName("a container and a compose project of the same name are different apps")
        void containerAndComposeAreDifferentApps() {
            store.insert(pending("m-1", "shop"));
            store.insert(pending("m-2", "compose:shop"));
            assertThat(store.active()).hasSize(2);
        }

        @Test
        @DisplayName("concurrent inserts for one app: exactly one wins")
        void concurrentInsertsOneWins() throws Exception {
            List<Migration> candidates = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                candidates.add(pending("m-c" + i, "web"));
            }
            assertThat(race(candidates, store::insert, ActiveMigrationExistsException.class)).isEqualTo(1);
            assertThat(store.active()).hasSize(1);
        }
    }

    @Nested
    @DisplayName("compare-and-set on version")
    class CompareAndSet {
        @Test
        @DisplayName("an update from a stale read is refused and changes nothing")
        void rejectsStaleUpdate() {
            Migration v1 = pending("m-1", "web");
            store.insert(v1);
            Migration v2 = save(v1, new MigrationEvent.Waiting("a"));
            Migration alsoV2 = next(v1, new MigrationEvent.Waiting("b"));
            assertThatThrownBy(() -> store.update(alsoV2))
                    .isInstanceOf(StaleVersionException.class)
                    .hasMessageContaining("expected version 1")
                    .hasMessageContaining("version 2");
            assertThat(store.find(v1.id())).contains(v2);
        }

        @Test
        @DisplayName("an update of an unknown migration is refused")
        void rejectsUpdateOfUnknown() {
            Migration m = next(pending("m-x", "web"), new MigrationEvent.Waiting("a"));
            assertThatThrownBy(() -> store.update(m)).isInstanceOf(MigrationNotFoundException.class);
        }

        @Test
        @DisplayName("concurrent updates from one read: exactly one wins")
        void concurrentUpdatesOneWins() throws Exception {
            Migration v1 = pending("m-1", "web");
            store.insert(v1);
            List<Migration> candidates = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                candidates.add(next(v1, new MigrationEvent.Waiting("writer " + i)));
            }
            assertThat(race(candidates, store::update, StaleVersionException.class)).isEqualTo(1);
            assertThat(store.history(v1.id())).hasSize(2);
        }
    }

    @Nested
    @DisplayName("history, listing and epochs")
    class HistoryAndListing {
        @Test
        @DisplayName("every saved version is kept, oldest first, versions strictly increasing")
        void keepsEveryVersion() {
            Migration m = pending("m-1", "web");
            store.insert(m);
            m = save(m, new MigrationEvent.Advanced(Map.of()));
            m = save(m, new MigrationEvent.OperationStarted(OperationKind.SNAPSHOT));
            List<Migration> h = store.history(m.id());
            assertThat(h).extracting(Migration::version).containsExactly(1L, 2L, 3L);
            assertThat(h).extracting(Migration::state)
                    .containsExactly(MigrationState.PENDING, MigrationState.SNAPSHOTTING, MigrationState.SNAPSHOTTING);
            assertThat(h.get(2)).isEqualTo(m);
        }

        @Test
        @DisplayName("list is newest first; active is oldest first and holds no terminal migration")
        void listsInOrder() {
            Migration a = pending("m-a", "one");
            Migration b = pending("m-b", "two");
            Migration c = pending("m-c", "three");
            store.insert(a);
            store.insert(b);
            store.insert(c);
            save(b, new MigrationEvent.Failed("x", Compensation.NOT_NEEDED));
            assertThat(store.list()).extracting(m -> m.id().value()).containsExactly("m-c", "m-b", "m-a");
            assertThat(store.active()).extracting(m -> m.id().value()).containsExactly("m-a", "m-c");
        }

        @Test
        @DisplayName("maxEpoch is the highest epoch any migration of the app reached")
        void tracksMaxEpoch() {
            assertThat(store.maxEpoch(AppRef.parse("web"))).isZero();
            Migration m = pending("m-1", "web");
            store.insert(m);
            m = save(m, new MigrationEvent.Adopted(5));
            save(m, new MigrationEvent.Failed("x", Compensation.NOT_NEEDED));
            assertThat(store.maxEpoch(AppRef.parse("web"))).isEqualTo(5);
            assertThat(store.maxEpoch(AppRef.parse("other"))).isZero();
        }
    }

    @Nested
    @DisplayName("paging and filtering")
    class Paging {
        /**
         * 25 migrations m-00 .. m-24 of apps app-0 .. app-4 (five each), created in that order:
         * the first 20 failed, m-20 and m-21 pending, m-22 .. m-24 snapshotting.
         */
        private List<Migration> seed() {
            List<Migration> all = new ArrayList<>();
            for (int i = 0; i < 25; i++) {
                Migration m = pending(String.format("m-%02d", i), "app-" + (i % 5));
                store.insert(m);
                if (i < 20) {
                    m = save(m, new MigrationEvent.Failed("ended " + i, Compensation.NOT_NEEDED));
                } else if (i >= 22) {
                    m = save(m, new MigrationEvent.Advanced(Map.of()));
                }
                all.add(m);
            }
            return all;
        }

        private List<String> ids(MigrationPage page) {
            return page.migrations().stream().map(m -> m.id().value()).toList();
        }

        @Test
        @DisplayName("pages of any size, read in turn, are list() cut into pieces, and each names the total")
        void pagesConcatenateToTheList() {
            seed();
            List<Migration> all = store.list();
            for (int limit : new int[] {1, 7, 25, 100}) {
                List<Migration> read = new ArrayList<>();
                MigrationQuery q = MigrationQuery.firstPage().withLimit(limit);
                while (true) {
                    MigrationPage p = store.page(q);
                    assertThat(p.total()).isEqualTo(25);
                    assertThat(p.migrations()).hasSizeLessThanOrEqualTo(limit);
                    read.addAll(p.migrations());
                    if (!p.hasMore()) {
                        break;
                    }
                    q = p.next();
                }
                assertThat(read).as("pages of %d", limit).isEqualTo(all);
            }
        }

        @Test
        @DisplayName("the first page holds the newest migrations, in full, and an offset past the end is empty")
        void firstPageIsNewestAndPastTheEndIsEmpty() {
            List<Migration> all = seed();
            MigrationPage first = store.page(MigrationQuery.firstPage().withLimit(3));
            assertThat(ids(first)).containsExactly("m-24", "m-23", "m-22");
            assertThat(first.migrations().get(0)).isEqualTo(all.get(24));
            assertThat(first.hasMore()).isTrue();
            MigrationPage past = store.page(MigrationQuery.firstPage().withOffset(25));
            assertThat(past.migrations()).isEmpty();
            assertThat(past.total()).isEqualTo(25);
            assertThat(past.hasMore()).isFalse();
        }

        @Test
        @DisplayName("state=active holds exactly active(), newest first, and counts only them")
        void activeFilterMatchesActive() {
            seed();
            List<Migration> active = new ArrayList<>(store.active());
            java.util.Collections.reverse(active);
            MigrationPage p = store.page(MigrationQuery.firstPage().withStates(MigrationQuery.ACTIVE));
            assertThat(p.migrations()).isNotEmpty().isEqualTo(active);
            assertThat(p.total()).isEqualTo(active.size());
            assertThat(p.migrations()).allMatch(m -> m.state().isActive());
        }

        @Test
        @DisplayName("a set of states, an app, and both together filter before the window is cut")
        void statesAndAppFilterBeforePaging() {
            List<Migration> all = seed();
            Set<MigrationState> ended = MigrationQuery.TERMINAL;
            List<String> terminalNewestFirst = all.stream().filter(m -> m.state().isTerminal())
                    .map(m -> m.id().value()).sorted(java.util.Comparator.reverseOrder()).toList();
            MigrationPage terminal = store.page(MigrationQuery.firstPage().withStates(ended).withOffset(2).withLimit(4));
            assertThat(terminal.total()).isEqualTo(terminalNewestFirst.size());
            assertThat(ids(terminal)).isEqualTo(terminalNewestFirst.subList(2, 6));

            MigrationPage snapshotting = store.page(MigrationQuery.firstPage()
                    .withStates(Set.of(MigrationState.SNAPSHOTTING)));
            assertThat(ids(snapshotting)).containsExactly("m-24", "m-23", "m-22");
            MigrationPage twoStates = store.page(MigrationQuery.firstPage()
                    .withStates(Set.of(MigrationState.PENDING, MigrationState.FAILED)).withLimit(3));
            assertThat(ids(twoStates)).containsExactly("m-21", "m-20", "m-19");
            assertThat(twoStates.total()).isEqualTo(22);

            MigrationPage app = store.page(MigrationQuery.firstPage().withApp(AppRef.parse("app-3")).withLimit(2));
            assertThat(app.total()).isEqualTo(5);
            assertThat(ids(app)).containsExactly("m-23", "m-18");

            MigrationPage both = store.page(MigrationQuery.firstPage().withApp(AppRef.parse("app-3"))
                    .withStates(MigrationQuery.ACTIVE));
            assertThat(ids(both)).containsExactly("m-23");
            assertThat(both.total()).isEqualTo(1);

            MigrationPage none = store.page(MigrationQuery.firstPage().withApp(AppRef.parse("compose:app-3")));
            assertThat(none.migrations()).isEmpty();
            assertThat(none.total()).isZero();
        }

        @Test
        @DisplayName("a page shows each migration's current version, not an older one")
        void pageShowsCurrentVersion() {
            Migration m = pending("m-1", "web");
            store.insert(m);
            m = save(m, new MigrationEvent.Advanced(Map.of()));
            assertThat(store.page(MigrationQuery.firstPage()).migrations()).containsExactly(m);
        }
    }

    @Nested
    @DisplayName("change stamp")
    class ChangeStamp {
        @Test
        @DisplayName("moves on every insert and update, and stays put while nothing is written")
        void movesOnEveryWrite() {
            OptionalLong empty = store.changeStamp();
            Migration m = pending("m-1", "web");
            store.insert(m);
            OptionalLong inserted = store.changeStamp();
            if (empty.isEmpty()) { // a store that cannot tell cheaply never claims to
                assertThat(inserted).isEmpty();
                return;
            }
            assertThat(inserted).isPresent().isNotEqualTo(empty);
            store.find(m.id());
            store.page(MigrationQuery.firstPage());
            store.list();
            store.active();
            assertThat(store.changeStamp()).isEqualTo(inserted);

            m = save(m, new MigrationEvent.Advanced(Map.of()));
            OptionalLong updated = store.changeStamp();
            assertThat(updated).isPresent().isNotEqualTo(inserted).isNotEqualTo(empty);

            store.insert(pending("m-2", "db"));
            assertThat(store.changeStamp()).isPresent().isNotEqualTo(updated).isNotEqualTo(inserted);
        }
    }

    /**
     * Starts one thread per candidate, releases them together, and counts how many saved without
     * the expected "lost the race" exception.
     */
    private static int race(List<Migration> candidates, java.util.function.Consumer<Migration> save,
                            Class<? extends RuntimeException> lost) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(candidates.size());
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger won = new AtomicInteger();
        List<Future<?>> fs = new ArrayList<>();
        for (Migration m : candidates) {
            fs.add(pool.submit(() -> {
                go.await();
                try {
                    save.accept(m);
                    won.incrementAndGet();
                } catch (RuntimeException e) {
                    if (!lost.isInstance(e)) {
                        throw e;
                    }
                }
                return null;
            }));
        }
        go.countDown();
        try {
            for (Future<?> f : fs) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdown();
        }
        return won.get();
    }

    /** Applies an event and saves the result; returns the saved record. */
    protected Migration save(Migration m, MigrationEvent e) {
        Migration n = next(m, e);
        store.update(n);
        return n;
    }
}
