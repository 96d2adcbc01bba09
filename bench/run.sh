#!/usr/bin/env bash
# Runs every benchmark (or the ones named: bench/run.sh core docker http ui scale) and prints one
# table: each figure beside its baseline measured in the same run, and the ratio. Writes
# bench/results/report.md, report.json and migration-time.png (the scale benchmark's plot of
# migration time against volume size beside tar over ssh).
#
# Needs root for docker and scale: they start two Docker engines and an sshd of their own
# (scripts/ci/services/docker.sh and ssh.sh, under FLEET_BENCH_STATE) and stop them at the end.
# The transport, CoW, router and cutover benchmarks live beside their modules' tests; each
# module's README or class comment says how to run it (they need pools, Caddy and nginx).
set -euo pipefail
cd "$(dirname "$0")/.."
NAMES=("$@")
[ ${#NAMES[@]} -eq 0 ] && NAMES=(core docker http ui scale)

mvn -B -q -ntp -pl bench -am install -DskipTests
mvn -B -q -ntp -pl bench dependency:build-classpath -Dmdep.outputFile=target/bench.classpath >/dev/null
CP="bench/target/classes:$(cat bench/target/bench.classpath)"

STATE=${FLEET_BENCH_STATE:-/tmp/fleet-bench}
SERVICES=()
wants() { printf '%s\n' "${NAMES[@]}" | grep -qx "$1"; }
if wants docker || wants scale; then SERVICES+=(docker); fi
if wants scale; then SERVICES+=(ssh); fi
stop_services() {
  for s in "${SERVICES[@]}"; do
    bash "scripts/ci/services/$s.sh" down "$STATE" >/dev/null 2>&1 || true
  done
}
if [ ${#SERVICES[@]} -gt 0 ]; then
  bash scripts/ci/install-packages.sh
  stop_services
  trap stop_services EXIT
  for s in "${SERVICES[@]}"; do
    bash "scripts/ci/services/$s.sh" up "$STATE" >/dev/null
    # shellcheck disable=SC1090
    source "$STATE/$s.env"
  done
fi

java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dorg.slf4j.simpleLogger.log.dev.fleet.migration.core.Orchestrator=error \
  -cp "$CP" dev.fleet.migration.bench.BenchMain "${NAMES[@]}"
