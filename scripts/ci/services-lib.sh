# Sourced by scripts/test.sh and scripts/soak.sh (bash): starts service scripts from
# scripts/ci/services/ in order under one state directory, exports what each wrote to
# STATE_DIR/<name>.env, and stops them in reverse order when the calling script exits, whatever
# happens (the EXIT, INT and TERM trap is set before the first one starts).
#
#   fleet_services_up LOG_PREFIX STATE_DIR SCRIPT...

fleet_services_up() {
  FLEET_SERVICES_PREFIX=$1
  FLEET_SERVICES_STATE=$2
  shift 2
  FLEET_SERVICES=("$@")
  trap fleet_services_down EXIT INT TERM
  local s env
  for s in "${FLEET_SERVICES[@]}"; do
    echo "$FLEET_SERVICES_PREFIX: starting $(basename "$s" .sh) in $FLEET_SERVICES_STATE"
    bash "$s" up "$FLEET_SERVICES_STATE"
  done
  for env in "$FLEET_SERVICES_STATE"/*.env; do
    # shellcheck disable=SC1090
    [ -e "$env" ] && source "$env"
  done
  return 0
}

fleet_services_down() {
  local rc=$? i
  for ((i=${#FLEET_SERVICES[@]}-1; i>=0; i--)); do
    bash "${FLEET_SERVICES[$i]}" down "$FLEET_SERVICES_STATE" \
      || echo "$FLEET_SERVICES_PREFIX: stopping ${FLEET_SERVICES[$i]} failed" >&2
  done
  exit $rc
}
