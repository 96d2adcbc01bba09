package dev.fleet.migration.storage.cow.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.NodeOperationException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommandTest {
    private static Command cmd(String... argv) {
        return Command.of(NodeId.of("n1"), "test", List.of(argv));
    }

    @Test
    void failureCarriesCommandLineStatusAndStderr() {
        assertThatThrownBy(() -> cmd("ls", "--", "/no/such/path").run()).isInstanceOf(NodeOperationException.class)
                .hasMessageContaining("test on node n1 failed: ls -- /no/such/path exited with status 2")
                .hasMessageContaining("No such file or directory");
    }

    @Test
    void aMissingProgramIsAFailureNotACrash() {
        assertThatThrownBy(() -> cmd("/no/such/program").run()).hasMessageContaining("could not be started");
        assertThat(cmd("/no/such/program").succeeds()).isFalse();
    }

    @Test
    void argumentsAreNeverInterpretedByAShell() {
        assertThat(cmd("echo", "$(id)", ";", "rm -rf /").run()).isEqualTo("$(id) ; rm -rf /\n");
    }

    @Test
    void streamsAQuarterGibibyteThroughInConstantMemory() {
        long[] count = {0};
        OutputStream counter = new OutputStream() {
            @Override
            public void write(int b) {
                count[0]++;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                count[0] += len;
            }
        };
        cmd("head", "-c", "268435456", "/dev/zero").streamTo(counter);
        assertThat(count[0]).isEqualTo(256L * 1024 * 1024);
        cmd("cat").streamFrom(new InputStream() { // 256 MiB in, never held in memory
            long left = 256L * 1024 * 1024;

            @Override
            public int read() {
                return left-- > 0 ? 0 : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                java.util.Arrays.fill(b, off, off + n, (byte) 0);
                left -= n;
                return n;
            }
        });
    }

    @Test
    void aFailingConsumerKillsTheProducer() {
        OutputStream broken = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("disk full (simulated)");
            }
        };
        assertThatThrownBy(() -> cmd("cat", "/dev/zero").streamTo(broken)).hasMessageContaining("disk full (simulated)");
    }

    @Test
    void aProgramThatRejectsItsInputFailsTheStream() {
        assertThatThrownBy(() -> cmd("false").streamFrom(new ByteArrayInputStream(new byte[1 << 20])))
                .hasMessageContaining("exited with status 1");
    }
}
