#!/usr/bin/env bash
# A dedicated sshd for the transport tests: 127.0.0.1 only, a free high port, its own host key,
# its own config, and a client key made here and authorised for the user running the tests
# (root on CI). Writes STATE_DIR/ssh.env with the FLEET_TEST_SSH_* variables the *IT tests read.
#
#   bash scripts/ci/services/ssh.sh up STATE_DIR     start it (stops an earlier one first)
#   bash scripts/ci/services/ssh.sh down STATE_DIR   stop it and remove what it made
set -euo pipefail

cmd=${1:?usage: ssh.sh up|down STATE_DIR}
STATE_DIR=${2:?usage: ssh.sh up|down STATE_DIR}
DIR="$STATE_DIR/ssh"
PIDFILE="$DIR/sshd.pid"

stop() {
  if [ -f "$PIDFILE" ]; then
    local pid
    pid=$(cat "$PIDFILE")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$DIR" "$STATE_DIR/ssh.env"
}

free_port() {
  # ask the kernel for a free port on 127.0.0.1 (ephemeral range, never 22)
  python3 - 2>/dev/null <<'PY' || shuf -i 20000-29999 -n 1
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

case "$cmd" in
  down)
    stop
    ;;
  up)
    stop
    mkdir -p "$STATE_DIR" "$DIR"
    chmod 700 "$DIR"
    SSHD=$(command -v sshd || echo /usr/sbin/sshd)
    [ -x "$SSHD" ] || { echo "ssh.sh: sshd not found; run scripts/ci/install-packages.sh" >&2; exit 1; }
    # privilege separation directory that Debian's sshd insists on
    if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/sshd && chmod 755 /run/sshd; fi

    USER_NAME=$(id -un)
    HOME_DIR=$(getent passwd "$USER_NAME" | cut -d: -f6)
    ssh-keygen -q -t ed25519 -N '' -C fleet-test-host -f "$DIR/host_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C fleet-test-client -f "$DIR/client_ed25519"
    cp "$DIR/client_ed25519.pub" "$DIR/authorized_keys"
    chmod 600 "$DIR/authorized_keys"

    PORT=""
    for _ in 1 2 3 4 5; do
      PORT=$(free_port)
      cat > "$DIR/sshd_config" <<CFG
ListenAddress 127.0.0.1
Port $PORT
HostKey $DIR/host_ed25519
PidFile $PIDFILE
AuthorizedKeysFile $DIR/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowUsers $USER_NAME
AllowTcpForwarding no
X11Forwarding no
PermitTTY no
MaxStartups 100:30:200
MaxSessions 50
LoginGraceTime 30
ClientAliveInterval 10
Subsystem sftp internal-sftp
LogLevel INFO
CFG
      "$SSHD" -t -f "$DIR/sshd_config"
      # -E: its own log; without -D it daemonises and writes the pid file
      "$SSHD" -f "$DIR/sshd_config" -E "$DIR/sshd.log" || true
      for _ in $(seq 1 50); do
        [ -s "$PIDFILE" ] && break
        sleep 0.1
      done
      if [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then break; fi
      PORT=""
    done
    [ -n "$PORT" ] || { echo "ssh.sh: sshd did not start; see $DIR/sshd.log" >&2; cat "$DIR/sshd.log" >&2 || true; exit 1; }

    # known_hosts holds exactly this sshd's host key, under the [host]:port name ssh looks up
    echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$DIR/host_ed25519.pub")" > "$DIR/known_hosts"

    # wait until it answers a real login (deadline: 10 s)
    ok=""
    for _ in $(seq 1 100); do
      if ssh -F /dev/null -p "$PORT" -i "$DIR/client_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes \
           -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$DIR/known_hosts" \
           -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=2 \
           -- "$USER_NAME@127.0.0.1" true 2>/dev/null; then ok=1; break; fi
      sleep 0.1
    done
    [ -n "$ok" ] || { echo "ssh.sh: cannot log in to the test sshd; see $DIR/sshd.log" >&2; cat "$DIR/sshd.log" >&2 || true; exit 1; }

    cat > "$STATE_DIR/ssh.env" <<ENV
export FLEET_TEST_SSH_HOST=127.0.0.1
export FLEET_TEST_SSH_PORT=$PORT
export FLEET_TEST_SSH_USER=$USER_NAME
export FLEET_TEST_SSH_KEY=$DIR/client_ed25519
export FLEET_TEST_SSH_KNOWN_HOSTS=$DIR/known_hosts
export FLEET_TEST_SSH_HOST_PUBLIC_KEY=$DIR/host_ed25519.pub
export FLEET_TEST_SSH_PID=$(cat "$PIDFILE")
export FLEET_TEST_SSH_SCRATCH=$DIR/scratch
ENV
    mkdir -p "$DIR/scratch"
    echo "ssh.sh: sshd on 127.0.0.1:$PORT (pid $(cat "$PIDFILE")) for $USER_NAME; variables in $STATE_DIR/ssh.env"
    ;;
  *)
    echo "usage: ssh.sh up|down STATE_DIR" >&2
    exit 2
    ;;
esac
