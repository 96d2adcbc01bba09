package dev.fleet.migration.examples;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** One HTTP/1.1 GET on a fresh connection (Connection: close): what a new client would see. */
public final class HttpGet {
    private HttpGet() {}

    public record Answer(int status, String body) {}

    /**
     * @param address {@code host:port} to connect to
     * @param host    the Host header (null: the address)
     */
    public static Answer get(String address, String host, String path, int timeoutMillis) throws IOException {
        String[] hp = address.split(":");
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + (host == null ? address : host)
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            String text = all.toString(StandardCharsets.ISO_8859_1);
            String[] statusLine = text.split(" ", 3);
            if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/")) {
                throw new IOException("not an HTTP response (" + text.length() + " bytes): "
                        + text.substring(0, Math.min(80, text.length())));
            }
            int status = Integer.parseInt(statusLine[1]);
            int end = text.indexOf("\r\n\r\n");
            if (end < 0) {
                throw new IOException("HTTP response without the end of its headers: " + text);
            }
            String headers = text.substring(0, end).toLowerCase(java.util.Locale.ROOT);
            String body = text.substring(end + 4);
            return new Answer(status, headers.contains("\r\ntransfer-encoding: chunked") ? dechunk(body) : body);
        }
    }

    /** Decodes a chunked body (Caddy streams a CGI answer, which has no length, in chunks). */
    static String dechunk(String chunked) throws IOException {
        StringBuilder out = new StringBuilder();
        int at = 0;
        while (true) {
            int eol = chunked.indexOf("\r\n", at);
            if (eol < 0) {
                throw new IOException("truncated chunked body: " + chunked);
            }
            int size = Integer.parseInt(chunked.substring(at, eol).split(";")[0].strip(), 16);
            if (size == 0) {
                return out.toString();
            }
            if (eol + 2 + size > chunked.length()) {
                throw new IOException("truncated chunked body: " + chunked);
            }
            out.append(chunked, eol + 2, eol + 2 + size);
            at = eol + 2 + size + 2;
        }
    }
}
