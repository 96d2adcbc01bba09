package dev.fleet.migration.http.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import spark.Route;
import spark.Service;

/**
 * Registers routes on a {@link Service} and remembers each as {@code "GET /api/migrations/{id}"},
 * so a test can check that the OpenAPI document names every one of them.
 */
public final class Routes {
    private final Service http;
    private final List<String> registered = new ArrayList<>();

    public Routes(Service http) {
        this.http = http;
    }

    public void get(String path, Route route) {
        http.get(path, route);
        registered.add("GET " + openApiPath(path));
    }

    public void post(String path, Route route) {
        http.post(path, route);
        registered.add("POST " + openApiPath(path));
    }

    /** Every route registered, as {@code METHOD /path/{param}}. */
    public List<String> registered() {
        return Collections.unmodifiableList(registered);
    }

    /** Spark's {@code :id} becomes OpenAPI's {@code {id}}. */
    static String openApiPath(String sparkPath) {
        return sparkPath.replaceAll(":([A-Za-z0-9_]+)", "{$1}");
    }
}
