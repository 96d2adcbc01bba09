package dev.fleet.migration.proxy.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * One GET on a fresh connection with a chosen Host header, returning the status and one
 * response header. A fresh connection on purpose: after an nginx reload, a pooled keep-alive
 * connection would still be served by an old worker with the old config.
 */
public final class HttpProbe {
    private HttpProbe() {}

    public record Answer(int status, Optional<String> header) {}

    public static Answer get(String address, int port, String host, String headerName, int timeoutMillis) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, port), timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            OutputStream out = s.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\nUser-Agent: fleet-route-probe\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String head = readHead(s.getInputStream());
            String[] lines = head.split("\r\n");
            String[] status = lines[0].split(" ", 3);
            if (status.length < 2 || !status[0].startsWith("HTTP/")) {
                throw new IOException("not an HTTP answer: " + lines[0]);
            }
            String wanted = headerName.toLowerCase(Locale.ROOT) + ":";
            Optional<String> value = Optional.empty();
            for (int i = 1; i < lines.length; i++) {
                if (lines[i].toLowerCase(Locale.ROOT).startsWith(wanted)) {
                    value = Optional.of(lines[i].substring(wanted.length()).trim());
                }
            }
            return new Answer(Integer.parseInt(status[1]), value);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while ((b = in.read()) != -1) {
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4 || head.size() > 65536) {
                break;
            }
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }
}
