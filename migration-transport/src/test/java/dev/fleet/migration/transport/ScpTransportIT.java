package dev.fleet.migration.transport;

import dev.fleet.migration.core.spi.Transport;
import java.util.function.Consumer;
import org.junit.jupiter.api.DisplayName;

@DisplayName("ScpTransport against the test sshd")
class ScpTransportIT extends SshTransportScenarios {
    @Override
    Transport transport(SshSettings settings, Consumer<String> beforeVerification) {
        return ScpTransport.builder(settings).beforeVerification(beforeVerification).build();
    }
}
