package dev.fleet.migration.core;

import java.util.Objects;

/**
 * What is being moved, as the seed's "App id" field names it: a container name, or a compose
 * stack root ({@code compose:<project>}, every container labelled
 * {@code com.docker.compose.project=<project>}, with its named volumes).
 */
public record AppRef(Kind kind, String name) {
    public static final String COMPOSE_PREFIX = "compose:";

    public enum Kind {
        /** One container, by its name. */
        CONTAINER,
        /** Every container of one compose project. */
        COMPOSE_PROJECT
    }

    public AppRef {
        Objects.requireNonNull(kind, "kind");
        if (kind == Kind.CONTAINER) {
            Names.require("appId", name, Names.DOCKER_NAME, Names.DOCKER_NAME_MAX);
        } else {
            Names.require("appId", name, Names.COMPOSE_PROJECT, Names.DOCKER_NAME_MAX);
        }
    }

    public static AppRef container(String name) {
        return new AppRef(Kind.CONTAINER, name);
    }

    public static AppRef compose(String project) {
        return new AppRef(Kind.COMPOSE_PROJECT, project);
    }

    /**
     * Parses an app id as an operator types it: {@code web} is a container,
     * {@code compose:shop} is a compose project.
     *
     * @throws InvalidInputException naming the rule the id broke
     */
    public static AppRef parse(String appId) {
        if (appId == null) {
            throw new InvalidInputException("appId", null, "must be present");
        }
        if (appId.startsWith(COMPOSE_PREFIX)) {
            return compose(appId.substring(COMPOSE_PREFIX.length()));
        }
        return container(appId);
    }

    /** The id in the form {@link #parse} reads. */
    public String id() {
        return kind == Kind.CONTAINER ? name : COMPOSE_PREFIX + name;
    }

    @Override
    public String toString() {
        return id();
    }
}
