package dev.fleet.migration.http.ui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class FirefoxBidiTest {
    private final ObjectMapper json = new ObjectMapper();

    private Object java(String remoteValue) throws Exception {
        return FirefoxBidi.toJava(json.readTree(remoteValue.replace('\'', '"')));
    }

    @Test
    @DisplayName("a serialized row object becomes a Map of Java values, integral numbers as Long")
    void convertsAnObjectToAMap() throws Exception {
        Object row = java("""
                {'type': 'object', 'value': [
                  ['state', {'type': 'string', 'value': 'failed'}],
                  ['done', {'type': 'number', 'value': 6}],
                  ['abort', {'type': 'boolean', 'value': false}],
                  ['reason', {'type': 'null'}],
                  ['steps', {'type': 'array', 'value': [
                    {'type': 'number', 'value': 1.5}, {'type': 'undefined'}]}]]}""");
        assertThat(row).isInstanceOf(Map.class);
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) row;
        assertThat(map).containsEntry("state", "failed").containsEntry("done", 6L)
                .containsEntry("abort", false).containsEntry("reason", null)
                .containsEntry("steps", Arrays.asList(1.5, null));
    }

    @Test
    @DisplayName("special numbers arrive as strings and become Doubles")
    void convertsSpecialNumbers() throws Exception {
        assertThat(java("{'type': 'number', 'value': 'NaN'}")).isEqualTo(Double.NaN);
        assertThat(java("{'type': 'number', 'value': '-Infinity'}")).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(java("{'type': 'number', 'value': '-0'}")).isEqualTo(-0.0);
    }

    @Test
    @DisplayName("a DOM node stays the RemoteValue, so its sharedId can be used as an action origin")
    void keepsNodesAsRemoteValues() throws Exception {
        Object node = java("{'type': 'node', 'sharedId': 'abc', 'value': {'nodeType': 1}}");
        assertThat(node).isInstanceOf(JsonNode.class);
        assertThat(((JsonNode) node).path("sharedId").asText()).isEqualTo("abc");
    }

    @Test
    @DisplayName("arguments become LocalValues; anything but null, strings, booleans and numbers is refused")
    void buildsLocalValues() {
        assertThat(List.of(FirefoxBidi.localValue("web"), FirefoxBidi.localValue(true), FirefoxBidi.localValue(2)))
                .containsExactly(Map.of("type", "string", "value", "web"), Map.of("type", "boolean", "value", true),
                        Map.of("type", "number", "value", 2));
        assertThat(FirefoxBidi.localValue(null)).isEqualTo(Map.of("type", "null"));
        assertThatThrownBy(() -> FirefoxBidi.localValue(new Object())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("java.lang.Object");
    }
}
