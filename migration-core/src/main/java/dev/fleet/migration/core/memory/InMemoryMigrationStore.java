package dev.fleet.migration.core.memory;

import dev.fleet.migration.core.ActiveMigrationExistsException;
import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.ConflictException;
import dev.fleet.migration.core.Migration;
import dev.fleet.migration.core.MigrationId;
import dev.fleet.migration.core.MigrationNotFoundException;
import dev.fleet.migration.core.MigrationPage;
import dev.fleet.migration.core.MigrationQuery;
import dev.fleet.migration.core.StaleVersionException;
import dev.fleet.migration.core.spi.MigrationStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A {@link MigrationStore} in memory, for embedding and tests. One lock guards everything, so
 * insert's active-per-app check and update's compare-and-set are atomic.
 */
public final class InMemoryMigrationStore implements MigrationStore {
    private static final Comparator<Migration> NEWEST_FIRST =
            Comparator.comparing(Migration::createdAt).thenComparing(Migration::id).reversed();

    private final Map<MigrationId, Migration> current = new LinkedHashMap<>();
    private final Map<MigrationId, List<Migration>> history = new HashMap<>();
    private final Map<AppRef, MigrationId> activeByApp = new HashMap<>();
    private final Map<AppRef, Long> maxEpoch = new HashMap<>();
    /** Raised (under the lock) by every insert and update; read without it. */
    private volatile long changes;

    @Override
    public synchronized void insert(Migration m) {
        if (current.containsKey(m.id())) {
            throw new ConflictException("a migration with id " + m.id() + " already exists");
        }
        if (m.version() != 1) {
            throw new IllegalArgumentException("a new migration has version 1, not " + m.version());
        }
        if (m.state().isActive()) {
            MigrationId other = activeByApp.get(m.app());
            if (other != null) {
                throw new ActiveMigrationExistsException(m.app(), other);
            }
            activeByApp.put(m.app(), m.id());
        }
        current.put(m.id(), m);
        history.computeIfAbsent(m.id(), id -> new ArrayList<>()).add(m);
        maxEpoch.merge(m.app(), m.epoch(), Math::max);
        changes++;
    }

    @Override
    public synchronized void update(Migration next) {
        Migration stored = current.get(next.id());
        if (stored == null) {
            throw new MigrationNotFoundException(next.id());
        }
        if (stored.version() != next.version() - 1) {
            throw new StaleVersionException(next.id(), next.version() - 1, stored.version());
        }
        current.put(next.id(), next);
        history.get(next.id()).add(next);
        maxEpoch.merge(next.app(), next.epoch(), Math::max);
        if (next.isTerminal()) {
            activeByApp.remove(next.app(), next.id());
        }
        changes++;
    }

    @Override
    public OptionalLong changeStamp() {
        return OptionalLong.of(changes);
    }

    @Override
    public synchronized Optional<Migration> find(MigrationId id) {
        return Optional.ofNullable(current.get(id));
    }

    @Override
    public synchronized List<Migration> list() {
        List<Migration> all = new ArrayList<>(current.values());
        all.sort(NEWEST_FIRST);
        return all;
    }

    /** Filters under the lock, then sorts only the matches (creation time and id never change). */
    @Override
    public MigrationPage page(MigrationQuery query) {
        List<Migration> matches = new ArrayList<>();
        synchronized (this) {
            for (Migration m : current.values()) {
                if (query.matches(m)) {
                    matches.add(m);
                }
            }
        }
        matches.sort(NEWEST_FIRST);
        int from = (int) Math.min(matches.size(), (long) query.offset());
        int to = (int) Math.min(matches.size(), (long) from + query.limit());
        return new MigrationPage(matches.subList(from, to), matches.size(), query);
    }

    @Override
    public synchronized List<Migration> active() {
        List<Migration> all = new ArrayList<>();
        for (MigrationId id : activeByApp.values()) {
            all.add(current.get(id));
        }
        all.sort(NEWEST_FIRST.reversed());
        return all;
    }

    @Override
    public synchronized long maxEpoch(AppRef app) {
        return maxEpoch.getOrDefault(app, 0L);
    }

    @Override
    public synchronized List<Migration> history(MigrationId id) {
        return List.copyOf(history.getOrDefault(id, List.of()));
    }
}
