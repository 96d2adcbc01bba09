package dev.fleet.migration.http.ui;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/**
 * What {@link ControlPanelScenario} does in a browser, by element id: one implementation per
 * browser, each over its own protocol. Page scripts are function bodies that read
 * {@code arguments[i]} and return JSON-like values: null, Boolean, Long or Double, String, List, Map.
 * Every method waits at most a bounded time and throws an unchecked exception past it.
 */
interface PanelBrowser extends AutoCloseable {

    /** Loads the URL and returns once the page's load event has fired. */
    void open(String url);

    /** Reloads the page and returns once its load event has fired. */
    void reload();

    /** Whether the element is in the page and rendered; false while it is not there. */
    boolean displayed(String id);

    /** Types the text into the element as key presses, after giving it focus. */
    void type(String id, String text);

    /** Chooses the option with this value in a select, firing its change event. */
    void select(String id, String value);

    /** Clicks the element. */
    void click(String id);

    /** Runs the function body in the page with these arguments and returns its result. */
    Object js(String body, Object... args);

    /** The visible part of the page as a PNG. */
    byte[] screenshot();

    /** Ends the browser and removes its profile. */
    @Override
    void close();

    /** Removes a browser's temporary profile or home, saying on stderr what could not be removed. */
    static void deleteTree(Path dir) {
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            System.err.println("could not remove " + dir + ": " + e);
        }
    }
}
