#!/usr/bin/env bash
# The two-node demo, on this one machine:
#   - installs the Debian packages it needs when they are missing (scripts/ci/install-packages.sh),
#   - builds the project,
#   - starts two Docker engines (node a and node b),
#   - creates a sample app on node a: an HTTP server whose named volume holds a page and 20 MiB of data,
#   - migrates it to node b, printing its progress,
#   - proves the data arrived byte for byte and that node b now serves it,
#   - then waits for Ctrl-C and tears everything down.
#
#   sudo bash scripts/demo.sh                    run it, keep it up until Ctrl-C
#   sudo bash scripts/demo.sh --non-interactive  run it, check it, tear down, exit 0 only on success
#   sudo bash scripts/demo.sh --down             tear down what a previous run left
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STATE=${FLEET_DEMO_STATE:-/tmp/fleet-demo}
APP=demo-web
VOLUME=demo-web-data
PORT=${FLEET_DEMO_PORT:-18080}
MODE=interactive
case "${1:-}" in
  --down) MODE=down ;;
  --non-interactive) MODE=check ;;
  "") ;;
  *) echo "usage: $0 [--non-interactive|--down]" >&2; exit 2 ;;
esac

say() { printf '\033[1mfleet demo:\033[0m %s\n' "$*"; }

down() {
  if [ -f "$STATE/docker.env" ] || [ -d "$STATE/docker" ]; then
    bash scripts/ci/services/docker.sh down "$STATE" >/dev/null 2>&1 || true
  fi
  rm -rf "$STATE"
}

if [ "$MODE" = down ]; then
  down
  say "stopped both nodes and removed $STATE"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "fleet demo: it starts two Docker engines, so it needs root: sudo bash $0" >&2
  exit 1
fi

bash scripts/ci/install-packages.sh
down # a previous run's leftovers

say "building (mvn install, tests skipped: scripts/test.sh runs them)"
mvn -B -q -ntp -pl examples -am install -DskipTests
mvn -B -q -ntp -pl examples dependency:build-classpath -Dmdep.outputFile=target/demo.classpath >/dev/null
CP="$ROOT/examples/target/classes:$(cat examples/target/demo.classpath)"

say "starting node a and node b (two Docker engines)"
mkdir -p "$STATE"
bash scripts/ci/services/docker.sh up "$STATE" >"$STATE/docker-up.log" 2>&1 || { cat "$STATE/docker-up.log"; exit 1; }
# shellcheck disable=SC1091
source "$STATE/docker.env"
trap 'say "tearing down"; down' EXIT
if [ "$MODE" = interactive ]; then
  trap 'exit 130' INT TERM
fi
dk() { local host=$1; shift; docker -H "$host" "$@"; }

say "creating $APP on node a: a web server whose volume $VOLUME holds a page and 20 MiB of data"
dk "$FLEET_TEST_DOCKER_A" volume create "$VOLUME" >/dev/null
dk "$FLEET_TEST_DOCKER_A" run --rm -v "$VOLUME:/data" "$FLEET_TEST_IMAGE" \
  sh -c "echo 'Hello from the Fleet demo: this page lives in a named volume.' > /data/index.html \
         && head -c 20971520 /dev/urandom > /data/blob.bin"
# --init: busybox httpd as PID 1 would ignore SIGTERM, and every stop would wait out its timeout
dk "$FLEET_TEST_DOCKER_A" run -d --init --name "$APP" --network host --restart unless-stopped \
  --label "fleet.port=$PORT" -v "$VOLUME:/data" "$FLEET_TEST_IMAGE" httpd -f -p "$PORT" -h /data >/dev/null
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/index.html" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/index.html" >/dev/null || { say "the sample app did not start"; exit 1; }

volume_sums() { # host volume -> sha256 of every file, relative paths
  local mp
  mp=$(dk "$1" volume inspect --format '{{.Mountpoint}}' "$2")
  (cd "$mp" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
BEFORE=$(volume_sums "$FLEET_TEST_DOCKER_A" "$VOLUME")
say "node a serves: $(curl -fsS "http://127.0.0.1:$PORT/index.html")"

say "migrating $APP from node a to node b"
java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" dev.fleet.migration.examples.EmbeddedMigration \
  "$FLEET_TEST_DOCKER_A" "$FLEET_TEST_ARCHIVE_A" "$FLEET_TEST_DOCKER_B" "$FLEET_TEST_ARCHIVE_B" "$APP" \
  "$STATE/fleet.db"

say "checking the outcome"
ok=1
AFTER=$(volume_sums "$FLEET_TEST_DOCKER_B" "$VOLUME")
if [ "$BEFORE" = "$AFTER" ]; then
  say "  data: every file of $VOLUME on node b has the same sha256 as on node a ($(echo "$AFTER" | wc -l) files)"
else
  say "  data: MISMATCH between node a and node b"; ok=0
fi
if [ "$(dk "$FLEET_TEST_DOCKER_B" inspect --format '{{.State.Running}}' "$APP")" = true ]; then
  say "  node b runs $APP"
else
  say "  node b does NOT run $APP"; ok=0
fi
if [ -z "$(dk "$FLEET_TEST_DOCKER_A" ps -q --filter "name=^${APP}")" ]; then
  say "  node a runs nothing of $APP (kept stopped as $(dk "$FLEET_TEST_DOCKER_A" ps -a --format '{{.Names}}' --filter "name=^${APP}"))"
else
  say "  node a still runs $APP"; ok=0
fi
PAGE=$(curl -fsS "http://127.0.0.1:$PORT/index.html" || true)
if [ -n "$PAGE" ]; then
  say "  served from node b: $PAGE"
else
  say "  nothing is served on port $PORT"; ok=0
fi

if [ "$ok" != 1 ]; then
  say "FAILED"
  exit 1
fi
say "the app moved from node a to node b with its data"
if [ "$MODE" = interactive ]; then
  say "still up: docker -H $FLEET_TEST_DOCKER_B ps; http://127.0.0.1:$PORT/ . Ctrl-C tears everything down."
  while true; do sleep 3600; done
fi
