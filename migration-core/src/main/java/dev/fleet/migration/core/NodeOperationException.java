package dev.fleet.migration.core;

/**
 * A node reported that an operation failed for good (bad archive, conflict, disk full...).
 * The orchestrator turns this into the FAILED transition, with compensation.
 */
public class NodeOperationException extends MigrationException {
    private static final long serialVersionUID = 1L;
    private final NodeId node;
    private final String operation;

    public NodeOperationException(NodeId node, String operation, String message) {
        super(operation + " on node " + node + " failed: " + message);
        this.node = node;
        this.operation = operation;
    }

    public NodeOperationException(NodeId node, String operation, String message, Throwable cause) {
        super(operation + " on node " + node + " failed: " + message, cause);
        this.node = node;
        this.operation = operation;
    }

    public NodeId node() {
        return node;
    }

    public String operation() {
        return operation;
    }

    @Override
    public Kind kind() {
        return Kind.FAILED;
    }
}
