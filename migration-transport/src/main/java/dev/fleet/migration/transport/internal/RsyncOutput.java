package dev.fleet.migration.transport.internal;

import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads rsync's stdout: {@code --info=progress2} records (separated by carriage returns,
 * the first field is the bytes done so far, maybe with thousands separators) and the
 * {@code --stats} line "Total bytes sent: N".
 */
public final class RsyncOutput {
    private static final Pattern PROGRESS = Pattern.compile("^\\s*([0-9][0-9,.]*)\\s+\\d+%\\s");
    private static final Pattern SENT = Pattern.compile("Total bytes sent:\\s*([0-9][0-9,.]*)");

    private RsyncOutput() {}

    /** Bytes done in one progress record, or empty when the record is something else. */
    public static OptionalLong progressBytes(String record) {
        Matcher m = PROGRESS.matcher(record);
        return m.find() ? digits(m.group(1)) : OptionalLong.empty();
    }

    public static OptionalLong bytesSent(String line) {
        Matcher m = SENT.matcher(line);
        return m.find() ? digits(m.group(1)) : OptionalLong.empty();
    }

    private static OptionalLong digits(String grouped) {
        String plain = grouped.replace(",", "").replace(".", "");
        try {
            return OptionalLong.of(Long.parseLong(plain));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
