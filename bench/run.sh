#!/usr/bin/env bash
# Runs every benchmark (or the ones named: bench/run.sh core docker) and prints one table: each
# figure beside its baseline measured in the same run, and the ratio. Writes
# bench/results/report.md and report.json. Needs root for the docker benchmark, which starts two
# Docker engines of its own (scripts/ci/services/docker.sh) and stops them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
NAMES=("$@")
[ ${#NAMES[@]} -eq 0 ] && NAMES=(core docker)

mvn -B -q -ntp -pl bench -am install -DskipTests
mvn -B -q -ntp -pl bench dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null
CP="bench/target/classes:$(cat bench/target/bench.classpath)"

STATE=${FLEET_BENCH_STATE:-/tmp/fleet-bench}
if printf '%s\n' "${NAMES[@]}" | grep -qx docker; then
  bash scripts/ci/install-packages.sh
  bash scripts/ci/services/docker.sh down "$STATE" >/dev/null 2>&1 || true
  bash scripts/ci/services/docker.sh up "$STATE" >/dev/null
  trap 'bash scripts/ci/services/docker.sh down "$STATE" >/dev/null 2>&1 || true' EXIT
  # shellcheck disable=SC1091
  source "$STATE/docker.env"
fi

java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dorg.slf4j.simpleLogger.log.dev.fleet.migration.core.Orchestrator=error \
  -cp "$CP" dev.fleet.migration.bench.BenchMain "${NAMES[@]}"
