package dev.fleet.migration.core;

import java.util.Collection;
import java.util.stream.Collectors;

/** A request named a node that is not configured in the fleet. */
public class UnknownNodeException extends InvalidInputException {
    private static final long serialVersionUID = 1L;
    private final NodeId node;

    public UnknownNodeException(String field, NodeId node, Collection<NodeId> known) {
        super(field, "must name a configured node",
                field + " names unknown node '" + node.value() + "'; configured nodes: "
                        + known.stream().map(NodeId::value).sorted().collect(Collectors.joining(", ")),
                true);
        this.node = node;
    }

    public NodeId node() {
        return node;
    }
}
