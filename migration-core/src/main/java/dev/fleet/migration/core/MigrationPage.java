package dev.fleet.migration.core;

import java.util.List;
import java.util.Objects;

/**
 * One page of a listing: the migrations in the query's window, newest first, and how many
 * match the query's filter in all. The page and the total are read close together but not
 * necessarily in one snapshot, so a concurrent create may make them differ by a few.
 *
 * @param migrations the matches from {@code query.offset()}, at most {@code query.limit()}
 * @param total      how many migrations match the filter, over every page
 * @param query      the query this page answers
 */
public record MigrationPage(List<Migration> migrations, long total, MigrationQuery query) {
    public MigrationPage {
        migrations = List.copyOf(migrations);
        Objects.requireNonNull(query, "query");
        if (total < 0) {
            throw new IllegalArgumentException("total must be 0 or more, but was " + total);
        }
    }

    /** True when more matches follow this page (never for an empty page, so paging always ends). */
    public boolean hasMore() {
        return !migrations.isEmpty() && query.offset() + (long) migrations.size() < total;
    }

    /** The query for the page after this one (same filter and limit). */
    public MigrationQuery next() {
        return query.withOffset(query.offset() + migrations.size());
    }
}
