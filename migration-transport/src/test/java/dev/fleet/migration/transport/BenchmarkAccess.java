package dev.fleet.migration.transport;

import dev.fleet.migration.core.spi.TransferRequest;
import java.util.List;

/** Lets the benchmark read the exact rsync argument list the transport spawns, to derive its baseline from it. */
public final class BenchmarkAccess {
    private BenchmarkAccess() {}

    /** The argv {@code transport} runs for one file, with its own ssh login, writing to {@code destination}. */
    public static List<String> rsyncArgv(RsyncTransport transport, TransferRequest request, String destination) {
        return transport.rsyncCommand(request, false, destination);
    }
}
