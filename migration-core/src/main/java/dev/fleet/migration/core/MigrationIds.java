package dev.fleet.migration.core;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/** Sources of migration ids, injected into the orchestrator so tests can make them predictable. */
public final class MigrationIds {
    private static final char[] ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();

    private MigrationIds() {}

    /** {@code m-} followed by 20 random base-32 characters (100 bits). */
    public static Supplier<MigrationId> random() {
        SecureRandom random = new SecureRandom();
        return () -> {
            StringBuilder sb = new StringBuilder("m-");
            for (int i = 0; i < 20; i++) {
                sb.append(ALPHABET[random.nextInt(ALPHABET.length)]);
            }
            return new MigrationId(sb.toString());
        };
    }

    /** {@code m-<prefix>-1}, {@code m-<prefix>-2}, ...: for tests and benchmarks. */
    public static Supplier<MigrationId> sequential(String prefix) {
        AtomicLong next = new AtomicLong();
        return () -> new MigrationId("m-" + prefix + "-" + next.incrementAndGet());
    }
}
