package dev.fleet.migration.core;

/**
 * A node refused a call because it carried an epoch lower than the highest the node has seen
 * for the app: a newer control plane owns the migration, and this caller must stop.
 */
public class FencedException extends MigrationException {
    private static final long serialVersionUID = 1L;
    private final AppRef app;
    private final long epoch;
    private final long highestSeen;

    public FencedException(NodeId node, AppRef app, long epoch, long highestSeen) {
        super("node " + node + " refused epoch " + epoch + " for app '" + app
                + "': it has already seen epoch " + highestSeen + " (another control plane took over)");
        this.app = app;
        this.epoch = epoch;
        this.highestSeen = highestSeen;
    }

    public AppRef app() {
        return app;
    }

    public long epoch() {
        return epoch;
    }

    public long highestSeen() {
        return highestSeen;
    }

    @Override
    public Kind kind() {
        return Kind.FENCED;
    }
}
