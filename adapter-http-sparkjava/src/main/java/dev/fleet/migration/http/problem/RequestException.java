package dev.fleet.migration.http.problem;

/**
 * A request the HTTP layer refuses before it reaches the library (malformed JSON, a missing
 * field, a missing token). Carries everything its problem+json answer needs.
 */
public final class RequestException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String type;
    private final String title;

    public RequestException(int status, String type, String title, String detail) {
        super(detail);
        this.status = status;
        this.type = type;
        this.title = title;
    }

    public static RequestException malformed(String detail) {
        return new RequestException(400, Problems.TYPE_PREFIX + "malformed-json", "Malformed JSON", detail);
    }

    public static RequestException invalidBody(String detail) {
        return new RequestException(400, Problems.TYPE_PREFIX + "invalid-body", "Invalid request body", detail);
    }

    /** A request path the server cannot read (not UTF-8, not parseable): 400. */
    public static RequestException badPath(String detail) {
        return new RequestException(400, Problems.TYPE_PREFIX + "bad-request", "Bad request", detail);
    }

    public static RequestException unauthorized(String detail) {
        return new RequestException(401, Problems.TYPE_PREFIX + "unauthorized", "Unauthorized", detail);
    }

    public static RequestException forbidden(String detail) {
        return new RequestException(403, Problems.TYPE_PREFIX + "forbidden", "Forbidden", detail);
    }

    public static RequestException notFound(String detail) {
        return new RequestException(404, Problems.TYPE_PREFIX + "no-such-route", "Not found", detail);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String title() {
        return title;
    }
}
