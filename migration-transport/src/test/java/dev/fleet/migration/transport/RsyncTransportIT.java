package dev.fleet.migration.transport;

import dev.fleet.migration.core.spi.Transport;
import java.util.function.Consumer;
import org.junit.jupiter.api.DisplayName;

@DisplayName("RsyncTransport against the test sshd")
class RsyncTransportIT extends SshTransportScenarios {
    @Override
    Transport transport(SshSettings settings, Consumer<String> beforeVerification) {
        return RsyncTransport.builder(settings).beforeVerification(beforeVerification).build();
    }
}
