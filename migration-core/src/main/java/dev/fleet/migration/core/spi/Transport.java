package dev.fleet.migration.core.spi;

/**
 * Moves an archive from the source node to the target; runs on the source's agent, so data
 * never passes through the control plane. Implementations: rsync over ssh, scp/SFTP on jsch,
 * and a shared directory. Each passes {@code TransportContract} in core's test-jar.
 *
 * <p>Contract: the file appears on the target under its final name only when complete and
 * verified (sha256 computed on the target equals {@link TransferRequest#sha256()}); a cut
 * transfer resumes without resending what arrived; progress goes to one
 * {@link ProgressListener}; a {@link Cancellation} stops the transfer and leaves no file under
 * the final name.
 *
 * <p>Threads: one instance may run several transfers at once.
 */
public interface Transport {

    /** A short name for logs and config: {@code rsync}, {@code scp}, {@code shared}. */
    String name();

    /**
     * Transfers and verifies. Blocks until done, failed or cancelled. Called by the source
     * agent's TRANSFER operation, on a worker thread.
     *
     * @throws TransportException naming the cause: host unreachable, auth refused, host key
     *                            unknown or mismatched (with the offered fingerprint), disk full
     *                            on the target, checksum mismatch, cancelled
     */
    TransferResult transfer(TransferRequest request, ProgressListener progress, Cancellation cancellation);
}
