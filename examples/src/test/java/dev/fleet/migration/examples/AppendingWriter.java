package dev.fleet.migration.examples;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A writer that appends numbered records to the app through the proxy, one after the other:
 * {@code GET /cgi-bin/append?N} for N = 1, 2, 3, ..., pausing 10 ms after each answer. An
 * answer {@code 200 ok N <container id>} is an acknowledgement: the record was appended and
 * fsynced by that container. Anything else is a failed write (kept, never retried: the next
 * record gets the next number), which promises nothing either way.
 */
public final class AppendingWriter implements AutoCloseable {
    private final String address;
    private final String host;
    private final Thread thread;
    private volatile boolean running = true;
    /** record number → id of the container that acknowledged it. */
    public final Map<Long, String> acknowledged = new ConcurrentSkipListMap<>();
    public final List<String> failures = new CopyOnWriteArrayList<>();

    public AppendingWriter(String address, String host) {
        this.address = address;
        this.host = host;
        this.thread = new Thread(this::run, "appending-writer");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        for (long n = 1; running; n++) {
            try {
                HttpGet.Answer a = HttpGet.get(address, host, "/cgi-bin/append?" + n, 15_000);
                String[] words = a.body().strip().split(" ");
                if (a.status() == 200 && words.length == 3 && words[0].equals("ok") && words[1].equals(String.valueOf(n))) {
                    acknowledged.put(n, words[2]);
                } else {
                    failures.add("record " + n + ": HTTP " + a.status() + " " + a.body().strip());
                }
            } catch (IOException e) {
                failures.add("record " + n + ": " + e);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Stops after the write in flight; waits for it (deadline 20 s). */
    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(20_000);
    }
}
