#!/usr/bin/env bash
# Runs every benchmark (or the ones named: bash bench/run.sh transport cow) and prints one table:
# each figure beside its baseline measured in the same run, and the ratio. Writes
# bench/results/report.md, report.json and migration-time.png (the scale benchmark's plot of
# migration time against volume size beside tar over ssh).
#
#   benchmark  issue  services it needs (scripts/ci/services/)
#   core       2      none (fake nodes)
#   docker     3      docker
#   transport  4      ssh
#   cow        5      pools (made with FLEET_TEST_POOL_SIZE=12G, for the 4 GiB volumes)
#   http, ui   6      none (a control plane on loopback; ui drives Debian's Chromium)
#   router     7      proxy (Caddy and nginx)
#   cutover    7      docker, proxy
#   scale      8      docker, ssh
#
# It starts exactly the services the chosen benchmarks need (BenchMain --services says which)
# under FLEET_BENCH_STATE (default /tmp/fleet-bench), sources their env files, and stops them at
# the end; that needs root. FLEET_BENCH_SERVICES=DIR uses services that are already up in DIR
# instead (e.g. /tmp/fleet-test, left by scripts/test.sh): it sources DIR/NAME.env for each and
# starts and stops nothing.
#
# Sizes and counts are system properties in BENCH_JAVA_OPTS; the defaults are the issues' sizes.
# Each benchmark's class comment lists its own, e.g.
#   BENCH_JAVA_OPTS="-Dbench.transport.mib=64 -Dbench.transport.heapMiB=256 -Dbench.cow.smallMiB=256
#     -Dbench.cow.bigMiB=512" bash bench/run.sh transport cow
set -euo pipefail
cd "$(dirname "$0")/.."

# build; the classpath names each module's jar in its target/ (nothing is installed in ~/.m2)
mvn -B -q -ntp -pl bench -am package dependency:build-classpath -DskipTests \
  -Dmdep.outputFile=target/bench.classpath
CP="bench/target/classes:$(cat bench/target/bench.classpath)"
# shellcheck disable=SC2206 # BENCH_JAVA_OPTS is a list of words
JAVA=(java -Xmx1g ${BENCH_JAVA_OPTS:-} -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
  -Dorg.slf4j.simpleLogger.log.dev.fleet.migration.core.Orchestrator=error -cp "$CP")

# which services; an unknown benchmark name fails here, naming every benchmark
WANTED=$("${JAVA[@]}" dev.fleet.migration.bench.BenchMain --services "$@")
SERVICES=()
[ -z "$WANTED" ] || mapfile -t SERVICES <<<"$WANTED"

STATE=${FLEET_BENCH_STATE:-/tmp/fleet-bench}
STARTED=()
stop_services() {
  local i
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
    bash "scripts/ci/services/${STARTED[i]}.sh" down "$STATE" >/dev/null 2>&1 \
      || echo "bench: could not stop ${STARTED[i]} (scripts/ci/services/${STARTED[i]}.sh down $STATE)" >&2
  done
}
if [ ${#SERVICES[@]} -gt 0 ] && [ -n "${FLEET_BENCH_SERVICES:-}" ]; then
  for s in "${SERVICES[@]}"; do
    [ -f "$FLEET_BENCH_SERVICES/$s.env" ] \
      || { echo "bench: $FLEET_BENCH_SERVICES/$s.env is missing: $s is not up there" >&2; exit 1; }
    # shellcheck disable=SC1090
    source "$FLEET_BENCH_SERVICES/$s.env"
  done
elif [ ${#SERVICES[@]} -gt 0 ]; then
  bash scripts/ci/install-packages.sh
  trap stop_services EXIT
  for s in "${SERVICES[@]}"; do
    # the zfs pool has one name on the whole machine: pools.sh would destroy another run's
    if [ "$s" = pools ] && [ ! -d "$STATE/pools" ] && command -v zpool >/dev/null \
        && zpool list -H -o name fleettest >/dev/null 2>&1; then
      echo "bench: a zfs pool 'fleettest' is up already (scripts/test.sh's?); stop it first, or run with" \
        "FLEET_BENCH_SERVICES=<its state dir>" >&2
      exit 1
    fi
    bash "scripts/ci/services/$s.sh" down "$STATE" >/dev/null 2>&1 || true # an interrupted run's leftovers
    STARTED+=("$s")
    echo "bench: starting $s (scripts/ci/services/$s.sh up $STATE)"
    if [ "$s" = pools ]; then
      FLEET_TEST_POOL_SIZE=${FLEET_TEST_POOL_SIZE:-12G} bash scripts/ci/services/pools.sh up "$STATE" >/dev/null
    else
      bash "scripts/ci/services/$s.sh" up "$STATE" >/dev/null
    fi
    # shellcheck disable=SC1090
    source "$STATE/$s.env"
  done
fi

"${JAVA[@]}" dev.fleet.migration.bench.BenchMain "$@"
