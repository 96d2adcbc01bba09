package dev.fleet.migration.http.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("store: kind postgres, for control-plane replicas")
class PostgresStoreConfigTest {
    private static String config(String store) {
        return """
                store: %s
                tokens: {operator: operator-token-0123456789, agent: agent-token-0123456789ab}
                nodes:
                  - {id: a, agentUrl: "http://127.0.0.1:7001"}
                  - {id: b, agentUrl: "http://127.0.0.1:7002"}
                """.formatted(store);
    }

    @Test
    @DisplayName("url, user, a password from the environment, the replica's name and the lease length are read")
    void readsEveryKey() {
        FleetConfig c = FleetConfig.parse(config("{kind: postgres, url: \"jdbc:postgresql://db:5432/fleet\", user: fleet,"
                + " password: \"env:DB_PW\", replica: cp-1, leaseTtl: 20s}"), "fleet.yaml", Map.of("DB_PW", "s3cret"));
        FleetConfig.StoreSection s = c.store();
        assertThat(s.kind()).isEqualTo("postgres");
        assertThat(s.url()).hasValue("jdbc:postgresql://db:5432/fleet");
        assertThat(s.user()).hasValue("fleet");
        assertThat(s.password()).hasValue("s3cret");
        assertThat(s.replica()).hasValue("cp-1");
        assertThat(s.leaseTtl()).isEqualTo(Duration.ofSeconds(20));
        assertThat(s.toString()).doesNotContain("s3cret");
    }

    @Test
    @DisplayName("sqlite stays the default, with a 15 s lease")
    void sqliteByDefault() {
        FleetConfig c = FleetConfig.parse(config("{path: /tmp/x.db}"), "fleet.yaml", Map.of());
        assertThat(c.store().kind()).isEqualTo("sqlite");
        assertThat(c.store().leaseTtl()).isEqualTo(Duration.ofSeconds(15));
        assertThat(c.store().url()).isEmpty();
    }

    @Test
    @DisplayName("postgres without a jdbc:postgresql url, an unknown kind, or a password naming an unset variable are refused by key")
    void refusesMistakes() {
        assertThatThrownBy(() -> FleetConfig.parse(config("{kind: postgres}"), "fleet.yaml", Map.of()))
                .hasMessageContaining("store.url");
        assertThatThrownBy(() -> FleetConfig.parse(config("{kind: postgres, url: \"jdbc:mysql://x/y\"}"), "fleet.yaml",
                Map.of())).hasMessageContaining("store.url");
        assertThatThrownBy(() -> FleetConfig.parse(config("{kind: mongo}"), "fleet.yaml", Map.of()))
                .hasMessageContaining("store.kind").hasMessageContaining("sqlite or postgres");
        assertThatThrownBy(() -> FleetConfig.parse(config("{kind: postgres, url: \"jdbc:postgresql://db/f\","
                + " password: \"env:NOPE\"}"), "fleet.yaml", Map.of())).hasMessageContaining("store.password")
                .hasMessageContaining("NOPE");
    }
}
