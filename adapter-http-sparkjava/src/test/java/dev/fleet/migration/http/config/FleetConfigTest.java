package dev.fleet.migration.http.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fleet.migration.core.NodeId;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FleetConfigTest {
    static final String GOOD = """
            controlPlane:
              listen: 127.0.0.1:9090
            store:
              kind: sqlite
              path: /tmp/fleet/cp.db
            tokens:
              operator: env:OP_TOKEN
              agent: agent-token-0123456789abcdef
            retentionDays: 14
            scheduler:
              interval: 500ms
              maxActivePerNode: 3
              stepTimeout: 2h
              healthDeadline: 45s
            proxy:
              kind: caddy
              adminUrl: http://127.0.0.1:2019
            transport:
              default: rsync
              pairs:
                - {from: a, to: b, kind: shared-dir}
            nodes:
              - id: a
                agentUrl: http://127.0.0.1:7001
                docker: unix:///run/fleet-a/docker.sock
                ssh: root@127.0.0.1:2222
                archiveDir: /var/lib/fleet/a
                pool: btrfs
                upstreamHost: 127.0.0.1
              - id: b
                agentUrl: http://127.0.0.1:7002/
            """;

    private static FleetConfig parse(String yaml) {
        return FleetConfig.parse(yaml, "fleet.yaml", Map.of("OP_TOKEN", "operator-token-0123456789"));
    }

    @Test
    @DisplayName("reads every section, with defaults for what is left out")
    void readsEverySection() {
        FleetConfig c = parse(GOOD);
        assertThat(c.controlPlane().host()).isEqualTo("127.0.0.1");
        assertThat(c.controlPlane().port()).isEqualTo(9090);
        assertThat(c.store().path().toString()).isEqualTo("/tmp/fleet/cp.db");
        assertThat(c.tokens().operator()).isEqualTo("operator-token-0123456789");
        assertThat(c.retentionDays()).isEqualTo(14);
        assertThat(c.orchestratorSettings().schedulerInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.orchestratorSettings().maxActivePerNode()).isEqualTo(3);
        assertThat(c.orchestratorSettings().stepTimeout()).isEqualTo(Duration.ofHours(2));
        assertThat(c.proxy().kind()).isEqualTo("caddy");
        assertThat(c.transport().between(NodeId.of("a"), NodeId.of("b"))).isEqualTo("shared-dir");
        assertThat(c.transport().between(NodeId.of("b"), NodeId.of("a"))).isEqualTo("rsync");
        FleetConfig.Node a = c.nodes().get(0);
        assertThat(a.pool()).isEqualTo("btrfs");
        assertThat(a.ssh()).contains("root@127.0.0.1:2222");
        assertThat(a.listenPort()).isEqualTo(7001);
        FleetConfig.Node b = c.nodes().get(1);
        assertThat(b.agentUrl()).isEqualTo("http://127.0.0.1:7002");
        assertThat(b.archiveDir().toString()).isEqualTo("/var/lib/fleet/migrations");
        assertThat(b.pool()).isEqualTo("plain");
        assertThat(a.poolRoot()).isEmpty();
        assertThat(parse(GOOD.replace("pool: btrfs", "pool: btrfs\n    poolRoot: /srv/pool/fleet")).nodes().get(0)
                .poolRoot()).contains(java.nio.file.Path.of("/srv/pool/fleet"));
    }

    @Test
    @DisplayName("a pool root must be absolute and needs a pool kind")
    void poolRootRules() {
        assertThatThrownBy(() -> parse(GOOD.replace("pool: btrfs", "pool: btrfs\n    poolRoot: srv/pool")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("fleet.yaml:29: ")
                .hasMessageContaining("nodes[0].poolRoot must be an absolute path");
        assertThatThrownBy(() -> parse(GOOD.replace("pool: btrfs", "pool: plain\n    poolRoot: /srv/pool")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("fleet.yaml:29: ")
                .hasMessageContaining("nodes[0].poolRoot needs pool: btrfs or zfs");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "a typo in a key        | retentionDays: 14       | retentionDayz: 14                  | 9 | retentionDayz is not a known key",
        "a bad listen address   | listen: 127.0.0.1:9090  | listen: 127.0.0.1:99999            | 2  | controlPlane.listen must be host:port",
        "a bad duration         | interval: 500ms         | interval: soon                     | 11 | scheduler.interval must be a duration",
        "an unknown pool        | pool: btrfs             | pool: ext4                         | 28 | nodes[0].pool must be one of btrfs, plain, zfs, but was 'ext4'",
        "a bad agent URL        | agentUrl: http://127.0.0.1:7001 | agentUrl: ftp://x          | 24 | nodes[0].agentUrl must be an http:// or https:// URL",
        "a bad node id          | id: a                   | id: Node_A                         | 23 | nodes[0].id nodeId must match",
        "an unknown pair node   | from: a,                | from: q,                           | 21 | transport.pairs[0].from names unknown node 'q'",
        "a short token          | agent: agent-token-0123456789abcdef | agent: short           | 8  | tokens.agent must be at least 16 characters long",
        "an unset env token     | operator: env:OP_TOKEN  | operator: env:NOPE                 | 7  | tokens.operator names environment variable NOPE, which is not set",
        "a bad docker endpoint  | docker: unix:///run/fleet-a/docker.sock | docker: /var/run/d.sock | 25 | nodes[0].docker must be a unix:// or tcp:// Docker endpoint",
        "a relative archive dir | archiveDir: /var/lib/fleet/a | archiveDir: tmp              | 27 | nodes[0].archiveDir must be an absolute path",
        "a bad retention        | retentionDays: 14       | retentionDays: 0                   | 9 | retentionDays must be in 1..3650, but was 0"})
    @DisplayName("a broken rule names the file, the line and the key")
    void errorsNameLineAndKey(String name, String from, String to, int line, String message) {
        String yaml = GOOD.replace(from, to);
        assertThat(yaml).isNotEqualTo(GOOD);
        assertThatThrownBy(() -> parse(yaml)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("fleet.yaml:" + line + ": ")
                .hasMessageContaining(message);
    }

    @Test
    @DisplayName("the example config in the module is valid")
    void exampleConfigIsValid() throws Exception {
        String yaml = java.nio.file.Files.readString(java.nio.file.Path.of("fleet.example.yaml"));
        FleetConfig c = FleetConfig.parse(yaml, "fleet.example.yaml", Map.of(
                "FLEET_OPERATOR_TOKEN", "operator-token-0123456789", "FLEET_AGENT_TOKEN", "agent-token-0123456789"));
        assertThat(c.nodes()).hasSize(2);
        assertThat(c.nodes().get(1).pool()).isEqualTo("btrfs");
    }

    @Test
    @DisplayName("invalid YAML names its line; a missing section is named")
    void invalidYamlAndMissingSections() {
        assertThatThrownBy(() -> parse("tokens: [a\nnodes: {")).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("fleet.yaml:").hasMessageContaining("is not valid YAML");
        assertThatThrownBy(() -> parse("retentionDays: 3\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("tokens is required");
        assertThatThrownBy(() -> parse(GOOD.replace("  - id: b\n    agentUrl: http://127.0.0.1:7002/\n", "")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("nodes must list at least two nodes");
    }
}
