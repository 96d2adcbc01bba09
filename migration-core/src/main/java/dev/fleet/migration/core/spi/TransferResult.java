package dev.fleet.migration.core.spi;

import java.time.Duration;
import java.util.Optional;

/**
 * A finished, verified transfer: where it landed, the bytes that crossed the wire this time
 * (less than the size after a resume), and the sha256 the target computed.
 */
public record TransferResult(String remotePath, long size, long bytesSent, Optional<String> sha256,
                             Duration elapsed) {}
