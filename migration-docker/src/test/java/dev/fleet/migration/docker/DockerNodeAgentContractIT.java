package dev.fleet.migration.docker;

import dev.fleet.migration.core.AppRef;
import dev.fleet.migration.core.contract.NodeAgentContract;
import dev.fleet.migration.core.spi.NodeAgent;
import java.io.IOException;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The NodeAgent contract against two real Docker daemons. */
class DockerNodeAgentContractIT extends NodeAgentContract {
    private static TestNodes nodes;

    @BeforeAll
    static void startAgents() {
        nodes = new TestNodes();
    }

    @AfterAll
    static void stopAgents() {
        nodes.close();
    }

    @Override
    protected NodeAgent source() {
        return nodes.a;
    }

    @Override
    protected NodeAgent target() {
        return nodes.b;
    }

    @Override
    protected AppRef deployApp(String name) {
        String volume = name + "-data";
        nodes.docker(TestNodes.A, "volume", "create", volume);
        try {
            Files.writeString(nodes.mountpoint(TestNodes.A, volume).resolve("index.html"), "hello from " + name);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        nodes.deployWebApp(TestNodes.A, name, volume);
        return AppRef.container(name);
    }

    @Override
    protected void deployForeignContainer(String name) {
        nodes.removeLater("container", name);
        nodes.docker(TestNodes.B, "create", "--name", name, "--network", "none", nodes.image, "true");
    }
}
