#!/usr/bin/env bash
# The test command: installs what the tests need, starts the real parts (Docker daemons, sshd,
# pools, proxies) through scripts/ci/services/*.sh, runs every unit, property and integration
# test with Maven, and stops everything again, whatever happens.
#
# Each service script takes `up STATE_DIR` (start it, and write `export KEY=VALUE` lines that
# tell the tests where it is to STATE_DIR/<name>.env) and `down STATE_DIR` (stop it, remove
# what it made). Integration tests read those variables and fail loudly when one is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash scripts/ci/install-packages.sh

STATE_DIR=${FLEET_TEST_STATE:-/tmp/fleet-test}
mkdir -p "$STATE_DIR"
SERVICES=()
for s in scripts/ci/services/*.sh; do
  [ -e "$s" ] && SERVICES+=("$s")
done
source scripts/ci/services-lib.sh
fleet_services_up fleet "$STATE_DIR" "${SERVICES[@]}"

export CI=${CI:-true}

# The README's first command, run non-interactively: it checks its own outcome (the data on node b
# equals what was put on node a, node b serves it) and exits non-zero otherwise.
echo "fleet: running the demo non-interactively"
bash scripts/demo.sh --non-interactive

mvn -B -ntp ${MAVEN_ARGS:-} verify
