#!/usr/bin/env bash
# Sets tvirt up on a fresh Debian/Ubuntu machine and runs the main job: a running tvirtd with the
# default storage pool (and, as root, the default NAT network) and a ready-to-boot `demo` guest,
# so that `tvirt start demo` and `tvirt console demo` work right away.
#
#   ./setup.sh                 as root: system daemon (/etc/tvirt, /var/lib/tvirt, /run/tvirt)
#   TVIRT_ROOT=DIR ./setup.sh  everything under DIR (socket DIR/run/tvirt-sock)
#   TVIRT_WEB=0 ./setup.sh     without the web UI (served on 127.0.0.1:16580 by default)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

say "system packages"
bash scripts/install-deps.sh

say "node modules and build"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
chmod +x dist/src/cli/*.js dist/src/cli/launch.cjs dist/src/daemon/tvirtd.js 2>/dev/null || true

say "demo guest (kernel, busybox initramfs and root disk from Debian packages)"
guest_dir=$(sh scripts/build-test-guest.sh | tail -n 1)

tvirt=(node "$here/dist/src/cli/launch.cjs")
daemon_args=()
rundir=
if [ -n "${TVIRT_ROOT:-}" ]; then
  # As root, a --root daemon manages virtual networks too (run it in a network namespace to keep
  # them off the host: ip netns exec NS ./setup.sh).
  [ "$(id -u)" -eq 0 ] && daemon_args+=(--networks)
  mkdir -p "$TVIRT_ROOT"
  TVIRT_ROOT=$(cd "$TVIRT_ROOT" && pwd)
  daemon_args+=(--root "$TVIRT_ROOT")
  rundir="$TVIRT_ROOT/run"
  sock="$rundir/tvirt-sock"
  uri="qemu+unix:///system?socket=$sock"
  logdir="$TVIRT_ROOT/log"
elif [ "$(id -u)" -eq 0 ]; then
  rundir=/run/tvirt
  sock=$rundir/tvirt-sock
  uri=qemu:///system
  logdir=/var/log/tvirt
else
  uri=qemu:///session
  sock=
  logdir="${XDG_STATE_HOME:-$HOME/.local/state}/tvirt"
fi
[ "${TVIRT_WEB:-1}" != 0 ] && daemon_args+=(--web)
export TVIRT_DEFAULT_URI="$uri"

if [ "$(id -u)" -eq 0 ] && [ -z "${TVIRT_ROOT:-}" ]; then
  for cmd in tvirt tvirtd tvirt-clone; do
    f=$(node -p "require('./package.json').bin['$cmd'] ?? ''")
    [ -n "$f" ] && ln -sf "$here/$f" "/usr/local/bin/$cmd"
  done
  install -m 0644 scripts/tvirt-completion.bash /etc/bash_completion.d/tvirt 2>/dev/null || true
fi

say "tvirtd"
mkdir -p "$logdir"
if [ -n "$sock" ] && "${tvirt[@]}" -c "$uri" -q uri >/dev/null 2>&1; then
  echo "tvirtd is already running ($uri)"
elif [ -n "$sock" ]; then
  setsid nohup node "$here/dist/src/daemon/tvirtd.js" "${daemon_args[@]}" >>"$logdir/tvirtd.log" 2>&1 </dev/null &
  for _ in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || { echo "tvirtd did not start; see $logdir/tvirtd.log" >&2; tail -n 20 "$logdir/tvirtd.log" >&2; exit 1; }
  echo "tvirtd started (log: $logdir/tvirtd.log)"
fi
# qemu:///session starts the user's session daemon on first use.

say "demo guest definition"
if "${tvirt[@]}" -c "$uri" -q domuuid demo >/dev/null 2>&1; then
  echo "domain 'demo' is already defined"
else
  pool_dir=$("${tvirt[@]}" -c "$uri" pool-dumpxml default 2>/dev/null | sed -n 's:.*<path>\(.*\)</path>.*:\1:p' | head -n 1)
  [ -n "$pool_dir" ] || pool_dir="${TVIRT_ROOT:-/var/lib/tvirt}/images"
  mkdir -p "$pool_dir"
  cp --sparse=always "$guest_dir/root.qcow2" "$pool_dir/demo.qcow2"
  cp "$guest_dir/vmlinuz" "$pool_dir/demo-vmlinuz"
  cp "$guest_dir/initrd.gz" "$pool_dir/demo-initrd.gz"
  "${tvirt[@]}" -c "$uri" pool-refresh default >/dev/null 2>&1 || true
  accel=qemu
  # KVM only when backed by hardware virtualization (a kvm_pvm /dev/kvm cannot run this kernel).
  if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then accel=kvm; fi
  sed -e "s:@ACCEL@:$accel:" -e "s:@DIR@:$pool_dir:g" examples/demo.xml > "$logdir/demo.xml"
  "${tvirt[@]}" -c "$uri" define "$logdir/demo.xml"
fi

cat <<EOT

tvirt is ready. Try (TVIRT_DEFAULT_URI=$uri):
  tvirt list --all
  tvirt start demo
  tvirt console demo        (Ctrl+] leaves)
  tvirt shutdown demo
EOT
if [ "$(id -u)" -ne 0 ] || [ -n "${TVIRT_ROOT:-}" ]; then
  echo "  (run the CLI as: node $here/dist/src/cli/launch.cjs -c '$uri' ...)"
fi
if [ -n "$rundir" ] && [ -f "$rundir/web-login-url" ]; then
  echo
  echo "Web UI (virt-manager in the browser), one-time login link:"
  echo "  $(cat "$rundir/web-login-url")"
fi
