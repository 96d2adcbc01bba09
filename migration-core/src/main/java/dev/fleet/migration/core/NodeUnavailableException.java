package dev.fleet.migration.core;

/**
 * A node could not be reached, or answered with a transient error.
 */
public class NodeUnavailableException extends UnavailableException {
    private static final long serialVersionUID = 1L;
    private final NodeId node;

    public NodeUnavailableException(NodeId node, String message) {
        super("node " + node + " is unavailable: " + message);
        this.node = node;
    }

    public NodeUnavailableException(NodeId node, String message, Throwable cause) {
        super("node " + node + " is unavailable: " + message, cause);
        this.node = node;
    }

    public NodeId node() {
        return node;
    }
}
