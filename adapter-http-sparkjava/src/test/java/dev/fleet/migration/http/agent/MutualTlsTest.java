package dev.fleet.migration.http.agent;

import static dev.fleet.migration.http.TestFleets.AGENT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.NodeId;
import dev.fleet.migration.core.NodeUnavailableException;
import dev.fleet.migration.core.testing.FakeFleet;
import dev.fleet.migration.http.TestFleets;
import dev.fleet.migration.http.security.TlsSettings;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Control plane → agent over mutual TLS, from keystores made with the JDK's keytool. */
class MutualTlsTest {
    @TempDir
    Path dir;

    private void keytool(String... args) throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        List<String> cmd = new java.util.ArrayList<>(List.of(keytool.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }

    @Test
    @DisplayName("an agent that requires client certificates serves a client with one and refuses one without")
    void mutualTls() throws Exception {
        Path keys = dir.resolve("node.p12");
        Path cert = dir.resolve("node.pem");
        Path trust = dir.resolve("trust.p12");
        keytool("-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=127.0.0.1",
                "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore", keys.toString(),
                "-storepass", "changeit", "-keypass", "changeit");
        keytool("-exportcert", "-rfc", "-alias", "node", "-keystore", keys.toString(), "-storepass", "changeit",
                "-file", cert.toString());
        keytool("-importcert", "-noprompt", "-alias", "node", "-file", cert.toString(), "-storetype", "PKCS12",
                "-keystore", trust.toString(), "-storepass", "changeit");

        FakeFleet fleet = TestFleets.instantFleet();
        TlsSettings server = new TlsSettings(Optional.of(keys), "changeit", Optional.of(trust), "changeit", true);
        try (AgentServer agent = AgentServer.builder(fleet.node("a")).listen("127.0.0.1", 0).token(AGENT)
                .tls(server).build().start()) {
            assertThat(agent.url()).startsWith("https://");
            HttpNodeAgent withCert = HttpNodeAgent.builder(NodeId.of("a"), URI.create(agent.url())).token(AGENT)
                    .tls(new TlsSettings(Optional.of(keys), "changeit", Optional.of(trust), "changeit", false)).build();
            assertThat(withCert.inventory().containers()).isEmpty();

            HttpNodeAgent withoutCert = HttpNodeAgent.builder(NodeId.of("a"), URI.create(agent.url())).token(AGENT)
                    .tls(new TlsSettings(Optional.empty(), "", Optional.of(trust), "changeit", false)).build();
            assertThatThrownBy(withoutCert::inventory).isInstanceOf(NodeUnavailableException.class);
        }
    }
}
