package dev.fleet.migration.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fleet.migration.core.spi.Cancellation;
import dev.fleet.migration.core.spi.ProgressListener;
import dev.fleet.migration.core.spi.Transport;
import dev.fleet.migration.core.spi.TransportException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("RsyncTransport against the test sshd")
class RsyncTransportIT extends SshTransportScenarios {
    @Override
    Transport transport(SshSettings settings, Consumer<String> beforeVerification) {
        return RsyncTransport.builder(settings).beforeVerification(beforeVerification).build();
    }

    @Test
    @DisplayName("shares one ssh login per transfer and leaves no ssh process or control socket behind, after success or failure")
    void leavesNoSshMasterBehind() throws Exception {
        Path source = Fixtures.file(Fixtures.MIB);
        long before = sshChildren();
        long socketsBefore = controlSocketDirs();

        transport().transfer(request(source, "one.tar", Optional.empty(), OptionalLong.empty()), ProgressListener.NONE,
                new Cancellation());
        TransportException mismatch = catchThrowableOfType(TransportException.class, () -> transport().transfer(
                request(source, "bad.tar", Optional.of("0".repeat(64)), OptionalLong.empty()), ProgressListener.NONE,
                new Cancellation()));

        assertThat(mismatch).isNotNull();
        assertThat(mismatch.reason()).isEqualTo(TransportException.Reason.CHECKSUM_MISMATCH);

        assertThat(target.resolve("one.tar")).exists();
        assertThat(sshChildren()).isEqualTo(before);
        assertThat(controlSocketDirs()).isEqualTo(socketsBefore);
    }

    private static long sshChildren() {
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().command().map(c -> c.endsWith("/ssh")).orElse(false)).count();
    }

    private static long controlSocketDirs() throws Exception {
        try (Stream<Path> listed = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return listed.filter(p -> p.getFileName().toString().startsWith("fleet-ssh")).count();
        }
    }
}
