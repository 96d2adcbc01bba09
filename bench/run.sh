#!/usr/bin/env bash
# Runs every benchmark (or the ones named: bench/run.sh core) and prints one table: each figure
# beside its baseline measured in the same run, and the ratio. Writes bench/results/report.md
# and report.json.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -ntp -pl bench -am install -DskipTests
mvn -B -q -ntp -pl bench dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null
CP="bench/target/classes:$(cat bench/target/bench.classpath)"
exec java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dorg.slf4j.simpleLogger.log.dev.fleet.migration.core.Orchestrator=error \
  -cp "$CP" dev.fleet.migration.bench.BenchMain "$@"
