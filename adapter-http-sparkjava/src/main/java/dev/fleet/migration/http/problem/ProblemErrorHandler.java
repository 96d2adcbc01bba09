package dev.fleet.migration.http.problem;

import dev.fleet.migration.http.wire.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

/**
 * Jetty's own error answers (a request it cannot parse before any route sees it: a
 * {@code %00} or {@code %ZZ} in the path, {@code GET *}, a header too large) as
 * {@code application/problem+json} too, instead of Jetty's HTML page: a client of either API
 * reads one error format, whatever refused its request.
 */
public final class ProblemErrorHandler extends ErrorHandler {
    @Override
    public ByteBuffer badMessageError(int status, String reason, HttpFields fields) {
        fields.put(HttpHeader.CONTENT_TYPE, Problems.CONTENT_TYPE);
        return ByteBuffer.wrap(body(status, reason).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    protected void generateAcceptableResponse(Request baseRequest, HttpServletRequest request,
                                              HttpServletResponse response, int code, String message)
            throws IOException {
        baseRequest.setHandled(true);
        response.setContentType(Problems.CONTENT_TYPE);
        response.setCharacterEncoding("UTF-8");
        response.getOutputStream().write(body(code, message).getBytes(StandardCharsets.UTF_8));
    }

    private static String body(int status, String reason) {
        String title = HttpStatus.getMessage(status);
        String why = reason == null || reason.isBlank() || reason.equals(title) ? "" : ": " + reason;
        return Json.write(Problems.problem(status, Problems.TYPE_PREFIX + "bad-request", title,
                "the HTTP server refused the request before any route saw it (" + status + " " + title + why
                        + "); check the request line, the path's percent-encoding and the headers"));
    }
}
