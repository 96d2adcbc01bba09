package dev.fleet.migration.transport;

import dev.fleet.migration.core.contract.TransportContract;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.Transport;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("SharedDirectoryTransport passes the Transport contract on a plain shared path")
class SharedDirectoryTransportContractTest extends TransportContract {
    private static final Transport TRANSPORT = SharedDirectoryTransport.builder().build();

    @TempDir
    Path shared;

    @Override
    protected Transport transport() {
        return TRANSPORT;
    }

    @Override
    protected Endpoint target() {
        // unused by a shared directory; any valid endpoint
        return new Endpoint("127.0.0.1", 22, "fleet");
    }

    @Override
    protected Path targetDirectory() {
        return shared;
    }
}
