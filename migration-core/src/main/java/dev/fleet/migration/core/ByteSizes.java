package dev.fleet.migration.core;

import java.util.Locale;

/** How a number of bytes reads in messages, progress lines and logs: "512 B", "3.2 MiB", "1.5 GiB". */
public final class ByteSizes {
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

    private ByteSizes() {}

    /** Binary units with one decimal; whole bytes below 1 KiB. */
    public static String of(long n) {
        double v = n;
        int u = 0;
        while (v >= 1024 && u < UNITS.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? n + " B" : String.format(Locale.ROOT, "%.1f %s", v, UNITS[u]);
    }
}
