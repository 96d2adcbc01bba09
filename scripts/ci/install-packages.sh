#!/usr/bin/env bash
# Installs the Debian packages the integration tests, the demo and the benchmarks need,
# when they are missing. One list, one place. Without root it prints the command instead.
set -euo pipefail

PACKAGES=(
  docker.io busybox-static          # two real Docker daemons; test images from a busybox rootfs
  openssh-server openssh-client rsync   # transports
  btrfs-progs zfs-fuse              # CoW pools on loop files
  caddy nginx                       # reverse proxies
  chromium chromium-driver          # the Control Panel's browser test
  firefox-esr                       # ... and in Firefox, over WebDriver BiDi: no geckodriver
  postgresql                        # the replicated control plane's store
  curl jq e2fsprogs util-linux procps iproute2 psmisc
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "fleet: installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "fleet: not root; run this first:" >&2
  echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# packages' own services must not start by themselves: the test script starts what it needs
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
