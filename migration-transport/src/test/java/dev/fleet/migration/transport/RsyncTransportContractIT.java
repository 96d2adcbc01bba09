package dev.fleet.migration.transport;

import dev.fleet.migration.core.contract.TransportContract;
import dev.fleet.migration.core.spi.Endpoint;
import dev.fleet.migration.core.spi.Transport;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("RsyncTransport passes the Transport contract against the test sshd")
class RsyncTransportContractIT extends TransportContract {
    private static final SshTestEnvironment SSH = SshTestEnvironment.require();
    private static final Transport TRANSPORT = RsyncTransport.builder(SSH.settings()).build();

    @TempDir
    Path target;

    @Override
    protected Transport transport() {
        return TRANSPORT;
    }

    @Override
    protected Endpoint target() {
        return SSH.endpoint();
    }

    @Override
    protected Path targetDirectory() {
        return target;
    }
}
