package dev.fleet.migration.http.config;

/** A config file the control plane or an agent cannot use; the message names the file, the line and the key. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String key;
    private final int line;

    public ConfigException(String file, int line, String key, String message) {
        super(file + (line > 0 ? ":" + line : "") + ": " + (key.isEmpty() ? "" : key + " ") + message);
        this.key = key;
        this.line = line;
    }

    public String key() {
        return key;
    }

    public int line() {
        return line;
    }
}
