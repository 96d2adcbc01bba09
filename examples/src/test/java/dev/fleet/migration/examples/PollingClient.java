package dev.fleet.migration.examples;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client that sends {@code GET /who} (or any path that answers the serving container's id) through a proxy every 10 ms, each on a fresh
 * connection and independently of the others: a request that waits (at the proxy, for an
 * upstream that is restarting) does not hold back the ones after it, so the client keeps
 * looking every 10 ms throughout the cutover. Each request is kept: when it was sent, when its
 * answer came back, its status, and which container answered.
 *
 * <p><b>The client's view of the downtime</b> ({@link View#gap}): the time from the arrival of
 * the last 200 answered by the source's container to the arrival of the first 200 answered by
 * the target's container. Requests are answered in a few milliseconds when an upstream serves,
 * so this is the stretch during which no copy of the app answered, as seen from the client, with a
 * resolution of the 10 ms polling interval. {@link View#longestWait} (the longest any single
 * request took, sent to answered) is reported beside it: with a proxy that holds requests it is
 * the same stretch as a client that arrived at its start lived it.
 */
public final class PollingClient implements AutoCloseable {
    /** One request: sent and done on {@link System#nanoTime()}, status -1 for an I/O error. */
    public record Sample(long sentNanos, long doneNanos, int status, String body, String error) {
        long waitedMillis() {
            return (doneNanos - sentNanos) / 1_000_000;
        }
    }

    private final String address;
    private final String host;
    private final String path;
    private final long baseNanos = System.nanoTime();
    private final Instant baseInstant = Instant.now();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "poll-tick"));
    private final ExecutorService requests = Executors.newCachedThreadPool(r -> daemon(r, "poll-request"));
    private final ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
    private final AtomicInteger inFlight = new AtomicInteger();

    /** Starts polling {@code path} at {@code address} ({@code host:port}) with the Host header {@code host}. */
    public PollingClient(String address, String host, String path, Duration every) {
        this.address = address;
        this.host = host;
        this.path = path;
        ticker.scheduleAtFixedRate(() -> {
            inFlight.incrementAndGet();
            requests.execute(this::once);
        }, 0, every.toNanos(), TimeUnit.NANOSECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private void once() {
        long sent = System.nanoTime();
        try {
            HttpGet.Answer a = HttpGet.get(address, host, path, 15_000);
            samples.add(new Sample(sent, System.nanoTime(), a.status(), a.body().strip(), null));
        } catch (IOException e) {
            samples.add(new Sample(sent, System.nanoTime(), -1, "", e.toString()));
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** Wall-clock time of a {@link System#nanoTime()} reading (to line the client up with the record's instants). */
    public Instant instantOf(long nanos) {
        return baseInstant.plusNanos(nanos - baseNanos);
    }

    /** Stops sending and waits (deadline 20 s) for the requests in flight to finish. */
    @Override
    public void close() {
        ticker.shutdownNow();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (inFlight.get() > 0 && System.nanoTime() < until) {
            CutoverEnvironment.sleep(10);
        }
        requests.shutdownNow();
    }

    public List<Sample> samples() {
        List<Sample> all = new ArrayList<>(samples);
        all.sort(Comparator.comparingLong(Sample::sentNanos));
        return all;
    }

    /**
     * Writes every request as one CSV line (sent, answered, waited ms, status, who answered or the
     * error) to {@code file}, for looking at a cutover request by request; returns the file.
     */
    public java.nio.file.Path writeCsv(java.nio.file.Path file, CutoverApp app) {
        return writeCsv(file, app::role);
    }

    /** {@link #writeCsv(java.nio.file.Path, CutoverApp)} with any mapping of container id to "source"/"target". */
    public java.nio.file.Path writeCsv(java.nio.file.Path file, java.util.function.Function<String, String> role) {
        StringBuilder sb = new StringBuilder("sent,answered,waited_ms,status,who\n");
        for (Sample s : samples()) {
            sb.append(instantOf(s.sentNanos())).append(',').append(instantOf(s.doneNanos())).append(',')
                    .append(s.waitedMillis()).append(',').append(s.status()).append(',')
                    .append(s.status() == 200 ? role.apply(s.body()) : s.status() == -1 ? s.error() : s.body())
                    .append('\n');
        }
        try {
            java.nio.file.Files.createDirectories(file.getParent());
            java.nio.file.Files.writeString(file, sb);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return file;
    }

    /** What the client saw, with each answer attributed to a copy of {@code app}. */
    public View view(CutoverApp app) {
        return view(app::role);
    }

    /** {@link #view(CutoverApp)} with any mapping of container id to "source", "target" or something else. */
    public View view(java.util.function.Function<String, String> role) {
        List<Sample> all = samples();
        List<String> failures = new ArrayList<>();
        Map<String, Integer> byRole = new TreeMap<>();
        Optional<Sample> lastSource = Optional.empty();
        Optional<Sample> firstTarget = Optional.empty();
        long longest = 0;
        for (Sample s : all) {
            longest = Math.max(longest, s.waitedMillis());
            if (s.status() != 200) {
                failures.add(s.status() == -1 ? s.error() + " after " + s.waitedMillis() + " ms"
                        : "HTTP " + s.status() + " after " + s.waitedMillis() + " ms at " + instantOf(s.doneNanos())
                                + ": " + s.body());
                continue;
            }
            String who = role.apply(s.body());
            byRole.merge(who, 1, Integer::sum);
            if (who.equals("source") && (lastSource.isEmpty() || s.doneNanos() > lastSource.get().doneNanos())) {
                lastSource = Optional.of(s);
            }
            if (who.equals("target") && (firstTarget.isEmpty() || s.doneNanos() < firstTarget.get().doneNanos())) {
                firstTarget = Optional.of(s);
            }
        }
        Optional<Duration> gap = lastSource.isPresent() && firstTarget.isPresent()
                ? Optional.of(Duration.ofNanos(firstTarget.get().doneNanos() - lastSource.get().doneNanos()))
                : Optional.empty();
        List<String> slowest = all.stream().sorted(Comparator.comparingLong(s -> -(s.doneNanos() - s.sentNanos())))
                .limit(3)
                .map(s -> "sent " + instantOf(s.sentNanos()) + " waited " + s.waitedMillis() + " ms for "
                        + (s.status() == 200 ? role.apply(s.body()) : s.status() == -1 ? s.error() : "HTTP " + s.status()))
                .toList();
        return new View(all.size(), failures, byRole, gap, Duration.ofMillis(longest),
                lastSource.map(s -> instantOf(s.doneNanos())), firstTarget.map(s -> instantOf(s.doneNanos())), slowest);
    }

    /**
     * @param sent          requests sent
     * @param failures      every answer that was not a 200, and every I/O error
     * @param answeredBy    200s per copy ("source", "target", "unknown <id>")
     * @param gap           last 200 from the source to the first 200 from the target (the client's downtime)
     * @param longestWait   the longest any request took
     * @param slowest       the three slowest requests, described
     */
    public record View(int sent, List<String> failures, Map<String, Integer> answeredBy, Optional<Duration> gap,
                       Duration longestWait, Optional<Instant> lastSourceAnswer, Optional<Instant> firstTargetAnswer,
                       List<String> slowest) {
        public int answered(String role) {
            return answeredBy.getOrDefault(role, 0);
        }

        @Override
        public String toString() {
            return "sent " + sent + ", failed " + failures.size() + ", answered by " + answeredBy + ", gap "
                    + gap.map(d -> d.toMillis() + " ms").orElse("-") + ", longest wait " + longestWait.toMillis()
                    + " ms, last source answer " + lastSourceAnswer.map(Instant::toString).orElse("-")
                    + ", first target answer " + firstTargetAnswer.map(Instant::toString).orElse("-")
                    + ", slowest " + slowest
                    + (failures.isEmpty() ? "" : ", first failures " + failures.subList(0, Math.min(5, failures.size())));
        }
    }
}
