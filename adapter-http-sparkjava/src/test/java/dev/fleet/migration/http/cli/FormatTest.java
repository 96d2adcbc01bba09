package dev.fleet.migration.http.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fleet.migration.http.wire.Json;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class FormatTest {
    @Test
    @DisplayName("the progress line shows state, bar, bytes, rate and ETA of the running step")
    void progressLineShowsBytesRateAndEta() {
        String line = Format.progressLine(Json.parse("""
                {"id":"m-1","state":"transferring","active":true,
                 "progress":{"bytesDone":536870912,"bytesTotal":1073741824,"bytesPerSecond":33554432.0,
                             "fraction":0.5,"etaMs":16000}}"""));
        assertThat(line).isEqualTo("m-1  transferring  [############>-----------]  512.0 MiB / 1.0 GiB  32.0 MiB/s  ETA 0:16");
    }

    @Test
    @DisplayName("a done migration has a full bar and no byte counts")
    void doneIsFull() {
        String line = Format.progressLine(Json.parse("""
                {"id":"m-2","state":"done","active":false,"progress":{"bytesDone":1,"bytesTotal":1,"fraction":1}}"""));
        assertThat(line).isEqualTo("m-2  done          [########################]");
    }
}
