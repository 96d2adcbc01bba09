package dev.fleet.migration.http.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import org.junit.jupiter.api.Test;

/**
 * docs/api-reference.md is rendered from the OpenAPI document; this fails when someone changes
 * one without the other. {@code -Dapi.reference.write=true} (scripts/api-reference.sh) rewrites it.
 */
class ApiReferenceTest {
    private static final Path REFERENCE = Path.of("..", "docs", "api-reference.md");

    @Test
    void docsApiReferenceIsRenderedFromTheOpenApiDocument() throws IOException {
        String rendered = ApiReference.render(ApiReference.openApi());
        if (Boolean.getBoolean("api.reference.write")) {
            Files.writeString(REFERENCE, rendered, StandardCharsets.UTF_8);
        }
        assertThat(REFERENCE).as("docs/api-reference.md exists; bash scripts/api-reference.sh writes it").exists();
        assertThat(Files.readString(REFERENCE, StandardCharsets.UTF_8))
                .as("docs/api-reference.md is out of date with openapi.json; run bash scripts/api-reference.sh")
                .isEqualTo(rendered);
    }

    @Test
    void everyPathAndSchemaOfTheDocumentAppearsInTheReference() {
        JsonNode doc = ApiReference.openApi();
        String rendered = ApiReference.render(doc);
        Iterator<String> paths = doc.path("paths").fieldNames();
        int count = 0;
        while (paths.hasNext()) {
            String path = paths.next();
            assertThat(rendered).contains("`" + path + "`");
            count++;
        }
        assertThat(count).isGreaterThan(10);
        doc.path("components").path("schemas").fieldNames()
                .forEachRemaining(name -> assertThat(rendered).contains("### " + name + "\n"));
    }
}
