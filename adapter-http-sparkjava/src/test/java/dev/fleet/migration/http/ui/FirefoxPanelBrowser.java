package dev.fleet.migration.http.ui;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Headless Firefox (Debian's firefox-esr) over WebDriver BiDi, through {@link FirefoxBidi}.
 * Clicks and key presses are real input events (input.performActions), as a user's would be.
 */
final class FirefoxPanelBrowser implements PanelBrowser {
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private final FirefoxBidi bidi;

    private FirefoxPanelBrowser(FirefoxBidi bidi) {
        this.bidi = bidi;
    }

    static FirefoxPanelBrowser start(Path firefox) throws IOException {
        return new FirefoxPanelBrowser(FirefoxBidi.start(firefox, COMMAND_TIMEOUT, 1400, 900));
    }

    @Override
    public void open(String url) {
        bidi.command("browsingContext.navigate", Map.of("context", bidi.context(), "url", url, "wait", "complete"));
    }

    @Override
    public void reload() {
        bidi.command("browsingContext.reload", Map.of("context", bidi.context(), "wait", "complete"));
    }

    @Override
    public boolean displayed(String id) {
        return Boolean.TRUE.equals(js("""
                var e = document.getElementById(arguments[0]);
                return e !== null && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';""",
                id));
    }

    @Override
    public void type(String id, String text) {
        click(id);
        List<Map<String, Object>> keys = new ArrayList<>();
        text.codePoints().forEach(c -> {
            String key = new String(Character.toChars(c));
            keys.add(Map.of("type", "keyDown", "value", key));
            keys.add(Map.of("type", "keyUp", "value", key));
        });
        perform(Map.of("type", "key", "id", "keyboard", "actions", keys));
    }

    /**
     * Sets the option and fires input and change, as WebDriver's click on an option element does:
     * the open list of a select is a native popup that page input cannot reach.
     */
    @Override
    public void select(String id, String value) {
        Object chosen = js("""
                var s = document.getElementById(arguments[0]);
                for (var i = 0; i < s.options.length; i++) {
                  if (s.options[i].value !== arguments[1]) continue;
                  s.focus();
                  s.selectedIndex = i;
                  s.dispatchEvent(new Event('input', {bubbles: true}));
                  s.dispatchEvent(new Event('change', {bubbles: true}));
                  return true;
                }
                return false;""", id, value);
        if (!Boolean.TRUE.equals(chosen)) {
            throw new IllegalStateException("#" + id + " has no option with the value '" + value + "'");
        }
    }

    /** Moves the mouse to the element's centre (scrolled into view first) and presses and releases it. */
    @Override
    public void click(String id) {
        JsonNode element = bidi.callFunction("""
                function (id) {
                  var e = document.getElementById(id);
                  if (e === null) throw new Error('no element #' + id);
                  e.scrollIntoView({block: 'center', inline: 'center'});
                  return e;
                }""", id);
        Map<String, Object> origin = Map.of("type", "element",
                "element", Map.of("sharedId", element.path("sharedId").asText()));
        perform(Map.of("type", "pointer", "id", "mouse", "parameters", Map.of("pointerType", "mouse"),
                "actions", List.of(Map.of("type", "pointerMove", "x", 0, "y", 0, "origin", origin),
                        Map.of("type", "pointerDown", "button", 0),
                        Map.of("type", "pointerUp", "button", 0))));
    }

    @Override
    public Object js(String body, Object... args) {
        return FirefoxBidi.toJava(bidi.callFunction("function () {\n" + body + "\n}", args));
    }

    @Override
    public byte[] screenshot() {
        return Base64.getDecoder().decode(bidi.command("browsingContext.captureScreenshot",
                Map.of("context", bidi.context())).path("data").asText());
    }

    @Override
    public void close() {
        bidi.close();
    }

    private void perform(Map<String, Object> source) {
        bidi.command("input.performActions", Map.of("context", bidi.context(), "actions", List.of(source)));
    }
}
