package dev.fleet.migration.core;

/** A node's id as configured in the fleet: a DNS label (lower-case, digits, inner dashes). */
public record NodeId(String value) implements Comparable<NodeId> {
    public NodeId {
        Names.require("nodeId", value, Names.NODE_ID, 63);
    }

    public static NodeId of(String value) {
        return new NodeId(value);
    }

    @Override
    public int compareTo(NodeId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
