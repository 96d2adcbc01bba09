package dev.fleet.migration.proxy;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProxyTestEnvironmentTest {
    @Test
    void missingVariableFailsNamingItAndTheTestScript() {
        assertThatThrownBy(() -> ProxyTestEnvironment.env("FLEET_TEST_NO_SUCH_VARIABLE"))
                .hasMessageContaining("FLEET_TEST_NO_SUCH_VARIABLE")
                .hasMessageContaining("scripts/test.sh");
    }
}
