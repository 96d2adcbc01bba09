#!/usr/bin/env bash
# The control-plane crash soak: ControlPlaneCrashIT at 100 trials per crash point (700 trials,
# 10 SIGKILLs of a real `fleet serve` per point), which CI runs at 10. Like scripts/test.sh it
# installs what is missing, starts the real parts the crash tests need through
# scripts/ci/services/*.sh in a state directory of its own, and stops them again whatever happens.
#
#   bash scripts/soak.sh                      # 100 trials per point (about 45 min on 2 cores)
#   bash scripts/soak.sh --trials 2           # a quick check of the script itself
#   bash scripts/soak.sh --tests ControlPlaneCrashIT,ReplicatedControlPlaneIT --services "docker postgres"
#
# Options (or environment variables):
#   --trials N      trials per crash point (FLEET_SOAK_TRIALS, default 100)
#   --batch N       migrations per SIGKILL (FLEET_SOAK_BATCH, default 10)
#   --tests LIST    the integration tests to run, comma-separated (FLEET_SOAK_TESTS, default ControlPlaneCrashIT)
#   --services LIST the service scripts to start, space-separated (FLEET_SOAK_SERVICES, default "docker";
#                   ReplicatedControlPlaneIT needs "docker postgres")
#   --state DIR     where the services keep their state (FLEET_SOAK_STATE, default /tmp/fleet-soak); use
#                   another one than a running scripts/test.sh (/tmp/fleet-test) so both can run
#
# Every trial's point, state at the kill, resume or abort and outcome is appended to
# adapter-http-sparkjava/target/crash-trials.tsv; the Maven log goes to the terminal. Exits
# non-zero when any trial failed. Extra Maven arguments come from MAVEN_ARGS (e.g. -o offline); it
# builds the modules the tests need (-am) and installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

TRIALS=${FLEET_SOAK_TRIALS:-100}
BATCH=${FLEET_SOAK_BATCH:-10}
TESTS=${FLEET_SOAK_TESTS:-ControlPlaneCrashIT}
SERVICES_WANTED=${FLEET_SOAK_SERVICES:-docker}
STATE_DIR=${FLEET_SOAK_STATE:-/tmp/fleet-soak}

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --trials) TRIALS=${2:?--trials needs a number}; shift 2 ;;
    --batch) BATCH=${2:?--batch needs a number}; shift 2 ;;
    --tests) TESTS=${2:?--tests needs a list}; shift 2 ;;
    --services) SERVICES_WANTED=${2:?--services needs a list}; shift 2 ;;
    --state) STATE_DIR=${2:?--state needs a directory}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "soak.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
for n in "$TRIALS" "$BATCH"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "soak.sh: '$n' is not a positive number" >&2; exit 2; }
done
[[ "$TESTS" =~ ^[A-Za-z0-9_,#*]+$ ]] || { echo "soak.sh: --tests takes test class names, comma-separated" >&2; exit 2; }

bash scripts/ci/install-packages.sh

mkdir -p "$STATE_DIR"
STATE_DIR=$(cd "$STATE_DIR" && pwd)
if [ "$STATE_DIR" = "${FLEET_TEST_STATE:-/tmp/fleet-test}" ] && [ -e "$STATE_DIR/docker.env" ]; then
  echo "soak.sh: $STATE_DIR already holds running test services; pass --state with another directory" >&2
  exit 2
fi
SERVICES=()
for name in $SERVICES_WANTED; do
  s="scripts/ci/services/$name.sh"
  [ -e "$s" ] || { echo "soak.sh: no service script $s" >&2; exit 2; }
  SERVICES+=("$s")
done

source scripts/ci/services-lib.sh
fleet_services_up soak.sh "$STATE_DIR" "${SERVICES[@]}"
export CI=${CI:-true}

echo "soak.sh: $TESTS with $TRIALS trials per point, $BATCH per kill"
start=$(date +%s)
# failsafe's verify in the modules built on the way (-am) rereads their last summary: a failure
# left there by an earlier, unrelated verify would stop the soak before it starts
rm -f ./*/target/failsafe-reports/failsafe-summary.xml
# shellcheck disable=SC2086 # MAVEN_ARGS is a list of arguments on purpose
mvn -B -ntp ${MAVEN_ARGS:-} -pl adapter-http-sparkjava -am verify \
  -Dit.test="$TESTS" -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false \
  -Dfleet.crash.trials="$TRIALS" -Dfleet.crash.batch="$BATCH"
echo "soak.sh: passed in $(( $(date +%s) - start )) s; trials: adapter-http-sparkjava/target/crash-trials.tsv"
