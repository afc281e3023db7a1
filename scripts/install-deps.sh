#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages tvirt needs, only those missing (idempotent, quiet).
#   scripts/install-deps.sh          what tvirtd and the demo guest need
#   scripts/install-deps.sh --test   that, plus what the tests need
# Run as root (or with sudo available). Prints exactly what to install when it cannot do it itself.
set -euo pipefail
pkgs=(
  qemu-system-x86 qemu-utils      # guests and qemu-img
  dnsmasq-base nftables iproute2  # virtual networks
  busybox-static cpio e2fsprogs   # the tiny demo/test guest
  ca-certificates
)
if [ "${1:-}" = "--test" ]; then
  pkgs+=(
    libxml2-utils                 # xmllint: RelaxNG validation of XML output
    chromium                      # web UI tests and bench (driven by playwright-core)
    lvm2                          # logical storage pool tests
    libvirt-clients               # the real virsh, to compare output with (never used by tvirt itself)
  )
fi
pkgs=($(printf '%s\n' "${pkgs[@]}" | sed 's/#.*//' | tr ' ' '\n' | grep -v '^$'))
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "tvirt needs these packages: ${missing[*]}" >&2
    echo "install them as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
