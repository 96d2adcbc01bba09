package dev.fleet.migration.proxy;

import dev.fleet.migration.core.AppRef;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client that sends a GET through the proxy every 10 ms on a keep-alive connection (as a
 * browser would, Host header set) and counts what came back: answers per body, and failures
 * (an exception or any status but 200) with their reasons.
 */
final class Poller implements AutoCloseable {
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final HttpRequest request;
    private final Thread thread;
    private volatile boolean running = true;
    final AtomicInteger sent = new AtomicInteger();
    final Map<String, AtomicInteger> answers = new ConcurrentHashMap<>();
    final List<String> failures = new CopyOnWriteArrayList<>();

    Poller(String proxy, AppRef app) {
        this.request = HttpRequest.newBuilder(URI.create("http://" + proxy + "/"))
                .header("Host", ProxyTestEnvironment.hostOf(app))
                .timeout(Duration.ofSeconds(15)).GET().build();
        this.thread = new Thread(this::run, "poller-" + app);
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (running) {
            long t = System.nanoTime();
            sent.incrementAndGet();
            try {
                HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    answers.computeIfAbsent(r.body(), k -> new AtomicInteger()).incrementAndGet();
                } else {
                    failures.add("HTTP " + r.statusCode() + " after " + (System.nanoTime() - t) / 1_000_000 + " ms: " + r.body());
                }
            } catch (Exception e) {
                failures.add(e.toString());
            }
            long left = 10 - (System.nanoTime() - t) / 1_000_000;
            if (left > 0) {
                try {
                    Thread.sleep(left);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    int answered(String body) {
        AtomicInteger n = answers.get(body);
        return n == null ? 0 : n.get();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(30_000);
    }
}
