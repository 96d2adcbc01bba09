#!/usr/bin/env bash
# The two-node demo, on this one machine:
#   - installs the Debian packages it needs when they are missing (scripts/ci/install-packages.sh),
#   - builds the project and the runnable `fleet` jar,
#   - starts two Docker engines (node a and node b), Caddy, the control plane and two node agents,
#   - creates a sample app on node a: an HTTP server whose named volume holds a page and 20 MiB of data,
#   - migrates it to node b with `fleet migrate --wait` and its live progress bar,
#   - proves the data arrived byte for byte and that the route through Caddy now serves from node b,
#   - prints the Control Panel's URL and waits for Ctrl-C, then tears everything down.
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
CP_PORT=${FLEET_DEMO_CP_PORT:-18480}
AGENT_A_PORT=$((CP_PORT + 1))
AGENT_B_PORT=$((CP_PORT + 2))
MODE=interactive
case "${1:-}" in
  --down) MODE=down ;;
  --non-interactive) MODE=check ;;
  "") ;;
  *) echo "usage: $0 [--non-interactive|--down]" >&2; exit 2 ;;
esac

say() { printf '\033[1mfleet demo:\033[0m %s\n' "$*"; }

down() {
  for pidfile in "$STATE"/*.pid; do
    [ -e "$pidfile" ] || continue
    kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  for pidfile in "$STATE"/*.pid; do
    [ -e "$pidfile" ] || continue
    for _ in $(seq 1 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$(cat "$pidfile")" 2>/dev/null || true
  done
  [ -e "$STATE/proxy.env" ] && bash scripts/ci/services/proxy.sh down "$STATE" >/dev/null 2>&1 || true
  if [ -f "$STATE/docker.env" ] || [ -d "$STATE/docker" ]; then
    bash scripts/ci/services/docker.sh down "$STATE" >/dev/null 2>&1 || true
  fi
  rm -rf "$STATE"
}

if [ "$MODE" = down ]; then
  down
  say "stopped everything and removed $STATE"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "fleet demo: it starts two Docker engines, so it needs root: sudo bash $0" >&2
  exit 1
fi

bash scripts/ci/install-packages.sh
down # a previous run's leftovers

say "building (mvn package, tests skipped: scripts/test.sh runs them)"
mvn -B -q -ntp -pl adapter-http-sparkjava -am install -DskipTests

mkdir -p "$STATE"
say "starting node a and node b (two Docker engines) and Caddy"
bash scripts/ci/services/docker.sh up "$STATE" >"$STATE/docker-up.log" 2>&1 || { cat "$STATE/docker-up.log"; exit 1; }
bash scripts/ci/services/proxy.sh up "$STATE" >"$STATE/proxy-up.log" 2>&1 || { cat "$STATE/proxy-up.log"; exit 1; }
# shellcheck disable=SC1091
source "$STATE/docker.env"
# shellcheck disable=SC1091
source "$STATE/proxy.env"
trap 'say "tearing down"; down' EXIT
if [ "$MODE" = interactive ]; then
  trap 'exit 130' INT TERM
fi
dk() { local host=$1; shift; docker -H "$host" "$@"; }

export FLEET_OPERATOR_TOKEN="demo-operator-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export FLEET_AGENT_TOKEN="demo-agent-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
cat >"$STATE/fleet.yaml" <<YAML
controlPlane:
  listen: 127.0.0.1:$CP_PORT
store:
  kind: sqlite
  path: $STATE/control-plane.db
tokens:
  operator: env:FLEET_OPERATOR_TOKEN
  agent: env:FLEET_AGENT_TOKEN
scheduler:
  interval: 500ms
proxy:
  kind: caddy
  adminUrl: http://$FLEET_TEST_CADDY_ADMIN
  server: $FLEET_TEST_CADDY_SERVER
  domain: fleet.test
transport:
  default: shared-dir      # both nodes are on this machine; between machines use rsync or scp
nodes:
  - id: a
    agentUrl: http://127.0.0.1:$AGENT_A_PORT
    docker: $FLEET_TEST_DOCKER_A
    archiveDir: $FLEET_TEST_ARCHIVE_A
    upstreamHost: 127.0.0.1
    checkHostPorts: false  # both engines share this machine's loopback
  - id: b
    agentUrl: http://127.0.0.1:$AGENT_B_PORT
    docker: $FLEET_TEST_DOCKER_B
    archiveDir: $FLEET_TEST_ARCHIVE_B
    upstreamHost: 127.0.0.2
    checkHostPorts: false
YAML

FLEET="$ROOT/bin/fleet"
export FLEET_JAVA_OPTS="-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"
say "starting the control plane and the agents of node a and node b"
for n in a b; do
  "$FLEET" agent --config "$STATE/fleet.yaml" --node "$n" >"$STATE/agent-$n.log" 2>&1 &
  echo $! >"$STATE/agent-$n.pid"
done
"$FLEET" serve --config "$STATE/fleet.yaml" >"$STATE/control-plane.log" 2>&1 &
echo $! >"$STATE/control-plane.pid"
for url in "http://127.0.0.1:$AGENT_A_PORT/api/agent/v1/health" "http://127.0.0.1:$AGENT_B_PORT/api/agent/v1/health" \
           "http://127.0.0.1:$CP_PORT/"; do
  for _ in $(seq 1 150); do curl -fsS "$url" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fsS "$url" >/dev/null || { say "did not come up: $url"; tail -20 "$STATE"/*.log; exit 1; }
done

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

say "migrating $APP from node a to node b: fleet migrate $APP --from a --to b --wait"
export FLEET_URL="http://127.0.0.1:$CP_PORT" FLEET_TOKEN="$FLEET_OPERATOR_TOKEN"
"$FLEET" migrate "$APP" --from a --to b --wait

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
ROUTE=$(curl -fsS "http://$FLEET_TEST_CADDY_ADMIN/id/fleet-route-$APP" || true)
if echo "$ROUTE" | grep -q "\"127.0.0.2:$PORT\""; then
  say "  Caddy's route for $APP.fleet.test points at node b (127.0.0.2:$PORT)"
else
  say "  Caddy's route does not point at node b: $ROUTE"; ok=0
fi
PAGE=$(curl -fsS -H "Host: $APP.fleet.test" "http://$FLEET_TEST_CADDY_HTTP/index.html" || true)
if [ -n "$PAGE" ]; then
  say "  through Caddy, from node b: $PAGE"
else
  say "  nothing is served through Caddy for $APP.fleet.test"; ok=0
fi
"$FLEET" list

if [ "$ok" != 1 ]; then
  say "FAILED"
  exit 1
fi
say "the app moved from node a to node b with its data, and the route followed it"
if [ "$MODE" = interactive ]; then
  say "Control Panel: http://127.0.0.1:$CP_PORT/  (token: $FLEET_OPERATOR_TOKEN)"
  say "try: FLEET_URL=$FLEET_URL FLEET_TOKEN=$FLEET_OPERATOR_TOKEN bin/fleet migrate $APP --from b --to a --wait"
  say "Ctrl-C tears everything down."
  while true; do sleep 3600; done
fi
