package dev.fleet.migration.http.ui;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small WebDriver BiDi client for a headless Firefox it starts itself. Firefox speaks BiDi
 * natively, so no geckodriver is needed (neither Debian nor Maven Central has one). One instance
 * owns one Firefox process with a fresh profile, one WebSocket, one session and the first tab;
 * {@link #close()} ends all of them and removes the profile. Every command waits at most the
 * timeout given to {@link #start}. Commands may be sent from any thread; replies are matched
 * to them by id.
 */
final class FirefoxBidi implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LISTENING = Pattern.compile("WebDriver BiDi listening on (ws://\\S+)");
    private static final int OUTPUT_LINES = 40;
    /*
     * Preferences that must be in place before Firefox starts (the remote agent applies its
     * other recommended automation preferences itself once it runs), as Puppeteer's launcher
     * writes them: a blank first page without first-run, default-browser or data-reporting
     * prompts, no update or crash recovery, and no "save password?" panel after the token form.
     */
    private static final String PREFS = """
            user_pref("browser.startup.page", 0);
            user_pref("browser.startup.homepage", "about:blank");
            user_pref("startup.homepage_welcome_url", "about:blank");
            user_pref("browser.startup.homepage_override.mstone", "ignore");
            user_pref("browser.shell.checkDefaultBrowser", false);
            user_pref("datareporting.policy.dataSubmissionPolicyBypassNotification", true);
            user_pref("app.update.disabledForTesting", true);
            user_pref("toolkit.startup.max_resumed_crashes", -1);
            user_pref("browser.sessionstore.resume_from_crash", false);
            user_pref("signon.rememberSignons", false);
            """;

    private final Process firefox;
    private final Path home;
    private final Duration timeout;
    private final Deque<String> output = new ArrayDeque<>();
    private final CompletableFuture<URI> endpoint = new CompletableFuture<>();
    private final Map<Long, CompletableFuture<JsonNode>> replies = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private WebSocket socket;
    private String context;

    private FirefoxBidi(Process firefox, Path home, Duration timeout) {
        this.firefox = firefox;
        this.home = home;
        this.timeout = timeout;
        Thread reader = new Thread(this::readOutput, "firefox-output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code firefox} headless on a fresh profile with the remote agent on a free port,
     * connects, opens a session and resizes the first tab's viewport to width × height.
     */
    static FirefoxBidi start(Path executable, Duration timeout, int width, int height) throws IOException {
        Path home = Files.createTempDirectory("fleet-firefox-");
        FirefoxBidi bidi = null;
        try {
            Path profile = Files.createDirectory(home.resolve("profile"));
            Files.writeString(profile.resolve("user.js"), PREFS);
            ProcessBuilder pb = new ProcessBuilder(executable.toString(), "--headless", "--no-remote",
                    "--profile", profile.toString(), "--remote-debugging-port", "0").redirectErrorStream(true);
            // everything Firefox writes outside the profile (caches, ~/.mozilla) lands in home, removed on close
            pb.environment().put("HOME", home.toString());
            pb.environment().remove("DISPLAY");
            pb.environment().remove("WAYLAND_DISPLAY");
            bidi = new FirefoxBidi(pb.start(), home, timeout);
            bidi.connect(width, height);
            return bidi;
        } catch (IOException | RuntimeException e) {
            if (bidi != null) {
                bidi.close();
            } else {
                PanelBrowser.deleteTree(home);
            }
            throw e;
        }
    }

    private void connect(int width, int height) {
        URI uri = await(endpoint, "Firefox to announce its WebDriver BiDi endpoint");
        socket = await(HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(timeout)
                .buildAsync(URI.create(uri + "/session"), new Listener()), "the WebDriver BiDi WebSocket to open");
        command("session.new", Map.of("capabilities", Map.of()));
        context = command("browsingContext.getTree", Map.of("maxDepth", 0)).path("contexts").path(0)
                .path("context").asText();
        if (context.isEmpty()) {
            throw new IllegalStateException("Firefox has no open tab to drive");
        }
        command("browsingContext.setViewport",
                Map.of("context", context, "viewport", Map.of("width", width, "height", height)));
    }

    /** The first tab's browsing context id, the target of every page command. */
    String context() {
        return context;
    }

    /**
     * Sends one command and returns its result.
     *
     * @throws BidiError when Firefox answers with an error
     * @throws IllegalStateException when no answer comes within the timeout or the connection ends
     */
    JsonNode command(String method, Map<String, ?> params) {
        return command(method, params, timeout);
    }

    private JsonNode command(String method, Map<String, ?> params, Duration wait) {
        long id = ids.incrementAndGet();
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        replies.put(id, reply);
        try {
            String text;
            try {
                text = JSON.writeValueAsString(Map.of("id", id, "method", method, "params", params));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("parameters of " + method + " are not JSON: " + params, e);
            }
            synchronized (this) { // the WebSocket allows one outstanding send
                await(socket.sendText(text, true), method + " to be sent", wait);
            }
            JsonNode answer = await(reply, "the answer to " + method, wait);
            if ("error".equals(answer.path("type").asText())) {
                throw new BidiError(method, answer.path("error").asText(), answer.path("message").asText());
            }
            return answer.path("result");
        } finally {
            replies.remove(id);
        }
    }

    /**
     * Calls a JavaScript function in the tab with these arguments (null, String, Boolean, Number),
     * awaiting a returned promise, and returns the result as BiDi's serialized RemoteValue.
     *
     * @throws IllegalStateException when the function throws
     */
    JsonNode callFunction(String functionDeclaration, Object... args) {
        List<Map<String, Object>> arguments = new ArrayList<>();
        for (Object a : args) {
            arguments.add(localValue(a));
        }
        JsonNode r = command("script.callFunction", Map.of("functionDeclaration", functionDeclaration,
                "awaitPromise", true, "target", Map.of("context", context), "arguments", arguments,
                "resultOwnership", "none", "serializationOptions", Map.of("maxDomDepth", 0)));
        if ("exception".equals(r.path("type").asText())) {
            throw new IllegalStateException("the page script threw: "
                    + r.path("exceptionDetails").path("text").asText());
        }
        return r.path("result");
    }

    /** BiDi's LocalValue for a Java argument. */
    static Map<String, Object> localValue(Object v) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (v == null) {
            m.put("type", "null");
        } else if (v instanceof String s) {
            m.put("type", "string");
            m.put("value", s);
        } else if (v instanceof Boolean b) {
            m.put("type", "boolean");
            m.put("value", b);
        } else if (v instanceof Number n) {
            m.put("type", "number");
            m.put("value", n);
        } else {
            throw new IllegalArgumentException("only null, String, Boolean and Number pass to a page script, but was "
                    + v.getClass().getName());
        }
        return m;
    }

    /**
     * A serialized RemoteValue as Java: null, Boolean, Long (integral numbers), Double, BigInteger,
     * String, List or Map; anything else (a DOM node, a function) stays the RemoteValue itself.
     */
    static Object toJava(JsonNode v) {
        JsonNode value = v.path("value");
        switch (v.path("type").asText()) {
            case "undefined", "null":
                return null;
            case "string":
                return value.asText();
            case "boolean":
                return value.asBoolean();
            case "bigint":
                return new BigInteger(value.asText());
            case "number":
                if (value.isTextual()) { // NaN, -0, Infinity, -Infinity
                    return value.asText().equals("-0") ? -0.0 : Double.valueOf(value.asText());
                }
                return value.canConvertToExactIntegral() && value.canConvertToLong() ? (Object) value.asLong()
                        : (Object) value.asDouble();
            case "array":
                List<Object> list = new ArrayList<>();
                value.forEach(item -> list.add(toJava(item)));
                return list;
            case "object":
                Map<String, Object> map = new LinkedHashMap<>();
                value.forEach(pair -> map.put(pair.get(0).isTextual() ? pair.get(0).asText()
                        : String.valueOf(toJava(pair.get(0))), toJava(pair.get(1))));
                return map;
            default:
                return v;
        }
    }

    /** Ends the session and Firefox (killed if it does not exit in time) and removes its profile. */
    @Override
    public void close() {
        List<ProcessHandle> children = firefox.descendants().toList(); // content processes, before they are orphaned
        boolean closing = false;
        if (socket != null) {
            try {
                command("browser.close", Map.of(), Duration.ofSeconds(5));
                closing = true;
            } catch (RuntimeException e) {
                // terminated below
            }
            socket.abort();
        }
        if (!closing) {
            firefox.destroy();
        }
        try {
            if (!firefox.waitFor(10, TimeUnit.SECONDS)) {
                firefox.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            for (ProcessHandle child : children) {
                child.destroyForcibly();
                child.onExit().get(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            System.err.println("a Firefox process did not exit: " + e);
        } finally {
            if (firefox.isAlive()) {
                firefox.destroyForcibly();
            }
            PanelBrowser.deleteTree(home);
        }
    }

    /** The last lines Firefox printed, for failure messages. */
    String output() {
        synchronized (output) {
            return String.join("\n", output);
        }
    }

    private void readOutput() {
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(firefox.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                synchronized (output) {
                    if (output.size() == OUTPUT_LINES) {
                        output.removeFirst();
                    }
                    output.addLast(line);
                }
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    endpoint.complete(URI.create(m.group(1)));
                }
            }
        } catch (IOException e) {
            // the process is gone; the end is reported below
        }
        IllegalStateException gone = new IllegalStateException("Firefox exited; its last output:\n" + output());
        endpoint.completeExceptionally(gone);
        replies.values().forEach(r -> r.completeExceptionally(gone));
    }

    private void dispatch(String text) {
        JsonNode message;
        try {
            message = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            System.err.println("Firefox sent a message that is not JSON: " + text);
            return;
        }
        // events (no id) are not subscribed to; an error without an id answers a message that was not parsed
        if (message.path("id").canConvertToLong()) {
            CompletableFuture<JsonNode> reply = replies.get(message.path("id").asLong());
            if (reply != null) {
                reply.complete(message);
            }
        }
    }

    private <T> T await(CompletableFuture<T> future, String what) {
        return await(future, what, timeout);
    }

    private <T> T await(CompletableFuture<T> future, String what, Duration wait) {
        try {
            return future.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("gave up after " + wait.toMillis() + " ms waiting for " + what
                    + "; Firefox's last output:\n" + output(), e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("waiting for " + what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for " + what, e);
        }
    }

    /** Firefox's answer to a command was an error: the BiDi error code and message. */
    static final class BidiError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final String error;

        BidiError(String method, String error, String message) {
            super(method + " failed: " + error + ": " + message);
            this.error = error;
        }

        /** BiDi's error code, e.g. "no such element" or "invalid argument". */
        String error() {
            return error;
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder parts = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            parts.append(data);
            if (last) {
                String text = parts.toString();
                parts.setLength(0);
                dispatch(text);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            failAll(new IllegalStateException("the WebDriver BiDi connection closed: " + status + " " + reason));
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            failAll(new IllegalStateException("the WebDriver BiDi connection failed: " + error, error));
        }

        private void failAll(IllegalStateException e) {
            replies.values().forEach(r -> r.completeExceptionally(e));
        }
    }
}
