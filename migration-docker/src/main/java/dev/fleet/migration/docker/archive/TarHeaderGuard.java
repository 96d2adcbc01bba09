package dev.fleet.migration.docker.archive;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Watches a tar stream on its way to commons-compress and refuses, before the tar reader parses
 * them, the headers that reader would hold in memory whole or that could make it and this guard
 * disagree about where the next header starts: a PAX extended header over {@link #MAX_PAX}
 * bytes or right after another one, GNU long names and links, global PAX headers, GNU sparse
 * entries (our writer emits none of these), links or directories that declare data, and headers
 * whose checksum is wrong (commons-compress would take them as they are). commons-compress reads a PAX header
 * into memory record by record, so one record of a gigabyte exhausts the heap, and a megabyte of
 * tiny records costs seconds; this guard keeps both bounded.
 *
 * <p>It follows the stream by the headers' sizes (a PAX {@code size} record overrides the next
 * header's), sees every byte once and copies none but headers.
 */
final class TarHeaderGuard extends FilterInputStream {
    static final int MAX_PAX = 1024 * 1024;
    private static final int RECORD = 512;

    private final String label;
    private final byte[] header = new byte[RECORD];
    private int headerFill;
    /** Bytes of the current entry's data and padding still to come before the next header. */
    private long dataLeft;
    /** The PAX header being captured (its data only), or null. */
    private byte[] pax;
    private int paxFill;
    private int paxLength;
    /** A size the last PAX header set for the next entry, or -1. */
    private long paxSize = -1;
    private boolean lastWasPax;

    TarHeaderGuard(InputStream in, String label) {
        super(in);
        this.label = label;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            observe(b, off, n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // read instead, so every byte passes the guard
        byte[] scratch = new byte[(int) Math.min(Math.max(n, 1), 64 * 1024)];
        long done = 0;
        while (done < n) {
            int r = read(scratch, 0, (int) Math.min(scratch.length, n - done));
            if (r < 0) {
                break;
            }
            done += r;
        }
        return done;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    private void observe(byte[] b, int off, int n) {
        int i = off;
        int end = off + n;
        while (i < end) {
            if (dataLeft > 0) {
                int k = (int) Math.min(dataLeft, end - i);
                if (pax != null && paxFill < paxLength) {
                    int c = Math.min(k, paxLength - paxFill);
                    System.arraycopy(b, i, pax, paxFill, c);
                    paxFill += c;
                }
                dataLeft -= k;
                i += k;
                if (dataLeft == 0 && pax != null) {
                    paxSize = sizeRecord(pax, paxLength);
                    pax = null;
                }
                continue;
            }
            int k = Math.min(RECORD - headerFill, end - i);
            System.arraycopy(b, i, header, headerFill, k);
            headerFill += k;
            i += k;
            if (headerFill == RECORD) {
                headerFill = 0;
                onHeader();
            }
        }
    }

    private void onHeader() {
        boolean zero = true;
        for (byte x : header) {
            if (x != 0) {
                zero = false;
                break;
            }
        }
        if (zero) {
            return; // end-of-archive records
        }
        if (!checksumOk()) {
            throw refuse("a header whose checksum is wrong");
        }
        byte type = header[156];
        long size = size();
        if (size < 0) {
            throw refuse("a header whose size field cannot be read");
        }
        boolean afterPax = lastWasPax;
        lastWasPax = false;
        switch (type) {
            case 'x':
            case 'X':
                if (afterPax) {
                    throw refuse("a PAX header right after another one");
                }
                lastWasPax = true;
                if (size > MAX_PAX) {
                    throw refuse("a PAX header of " + size + " bytes (at most " + MAX_PAX + " are accepted)");
                }
                pax = new byte[(int) size];
                paxFill = 0;
                paxLength = (int) size;
                dataLeft = padded(size);
                if (dataLeft == 0) {
                    pax = null;
                }
                return;
            case 'g':
                throw refuse("a global PAX header, which no volume archive holds");
            case 'L':
            case 'K':
                throw refuse("a GNU long name or link header (of " + size + " bytes), which no archive of ours holds");
            case 'S':
                throw refuse("a GNU sparse entry, which no volume archive holds");
            default:
                long data = paxSize >= 0 ? paxSize : size;
                paxSize = -1;
                if (data < 0) {
                    throw refuse("an entry with a negative or unreadable size");
                }
                if (data > 0 && type >= '1' && type <= '6') {
                    // readers disagree on whether such data is skipped; none of ours carries any
                    throw refuse("a link, directory or special entry that declares " + data + " bytes of data");
                }
                dataLeft = padded(data);
        }
    }

    private ArchiveException refuse(String what) {
        return new ArchiveException("refused the " + label + ": it holds " + what);
    }

    private static long padded(long size) {
        return (size + RECORD - 1) / RECORD * RECORD;
    }

    /** The stored checksum matches the header's bytes (summed unsigned, or signed as some old tars did). */
    private boolean checksumOk() {
        long stored = 0;
        long unsigned = 0;
        long signed = 0;
        int digits = 0;
        for (int i = 0; i < RECORD; i++) {
            byte b = header[i];
            if (i >= 148 && i < 156) {
                if ('0' <= b && b <= '7' && digits++ < 6) {
                    stored = stored * 8 + b - '0';
                } else if (digits > 0) {
                    digits = 6;
                }
                b = ' ';
            }
            unsigned += 0xff & b;
            signed += b;
        }
        return stored == unsigned || stored == signed;
    }

    /** The header's size field as commons-compress reads it (octal, or base-256); -1 when it cannot be read. */
    private long size() {
        if ((header[124] & 0x80) != 0) {
            if ((header[124] & 0x40) != 0 || (header[125] & 0x80) != 0) {
                return -1; // negative
            }
            long v = 0;
            for (int i = 125; i < 136; i++) {
                if (v > (Long.MAX_VALUE >> 8)) {
                    return -1;
                }
                v = (v << 8) | (header[i] & 0xff);
            }
            return v;
        }
        int start = 124;
        int end = 136;
        if (header[start] == 0) {
            return 0;
        }
        while (start < end && header[start] == ' ') {
            start++;
        }
        while (start < end && (header[end - 1] == 0 || header[end - 1] == ' ')) {
            end--;
        }
        long v = 0;
        for (int i = start; i < end; i++) {
            if (header[i] < '0' || header[i] > '7') {
                return -1;
            }
            v = (v << 3) + (header[i] - '0');
        }
        return v;
    }

    /** The value of a PAX header's {@code size} record, or -1. */
    private static long sizeRecord(byte[] pax, int length) {
        int p = 0;
        long found = -1;
        while (p < length) {
            int sp = p;
            long len = 0;
            while (sp < length && pax[sp] >= '0' && pax[sp] <= '9' && len < Integer.MAX_VALUE) {
                len = len * 10 + (pax[sp] - '0');
                sp++;
            }
            if (sp >= length || pax[sp] != ' ' || len <= sp - p || p + len > length) {
                return found; // malformed: commons-compress refuses it
            }
            int keyStart = sp + 1;
            int recordEnd = (int) (p + len);
            int eq = keyStart;
            while (eq < recordEnd && pax[eq] != '=') {
                eq++;
            }
            if (eq < recordEnd && new String(pax, keyStart, eq - keyStart, StandardCharsets.UTF_8).equals("size")) {
                String v = new String(pax, eq + 1, recordEnd - eq - 2, StandardCharsets.UTF_8);
                try {
                    found = Long.parseLong(v.trim());
                } catch (NumberFormatException e) {
                    found = -1;
                }
            }
            p = recordEnd;
        }
        return found;
    }
}
