#!/bin/sh
# Builds the tiny real test guest (kernel + initramfs + qcow2 root disk) from Debian packages, cached
# outside the repository. Idempotent: does nothing when the cache matches this recipe's stamp.
#
# Output, in ${TVIRT_GUEST_DIR:-$HOME/.cache/tvirt/guest}:
#   vmlinuz      Debian's cloud kernel (linux-image-cloud-amd64 -> linux-image-6.1.0-NN-cloud-amd64)
#   initrd.gz    busybox-static + the virtio (blk, net, console)/evdev/button modules; /init loads
#                them, mounts /dev/vda (ext4 is built into the kernel) and switch_roots to it (falls
#                back to itself without a disk)
#   root.qcow2   qcow2, 64 MiB virtual, ext4: busybox, /etc (inittab, acpid, udhcpc), /data (empty),
#                /etc/tvirt-root marker. Boot from a qcow2 OVERLAY of it to keep the cache pristine:
#                qemu-img create -f qcow2 -b $DIR/root.qcow2 -F qcow2 overlay.qcow2
#
# Boot (verified with QEMU 7.2, TCG, 2 cores: marker after ~2-4 s):
#   qemu-system-x86_64 -accel tcg -m 256 -nographic -no-user-config -nodefaults -serial stdio \
#     -kernel $DIR/vmlinuz -initrd $DIR/initrd.gz -append 'console=ttyS0 quiet' \
#     -drive file=overlay.qcow2,if=virtio,format=qcow2 -qmp unix:/tmp/q.sock,server=on,wait=off
#   kernel cmdline: 'console=ttyS0 quiet'  (+ ' tvirt.net=1' to DHCP eth0 with a virtio-net NIC, e.g.
#   -netdev user,id=n0 -device virtio-net-pci,netdev=n0; + ' tvirt.agent=0' to not run the guest agent)
#
# Guest behaviour:
#   - prints exactly 'TVIRT-GUEST-BOOTED' on its own line on ttyS0 once per boot, when the shell is up
#   - a root shell (busybox sh, prompt 'tvirt# ', followed by an ESC[6n cursor query) on the console;
#     respawned if it exits. Type only after the marker. Without a disk it stays in the initramfs
#     (after a 5 s wait for /dev/vda) and still prints the marker.
#   - system_powerdown sent before the marker may be lost (acpid is not running yet)
#   - QMP system_powerdown -> acpid -> 'TVIRT-ACPI-POWERDOWN' on its own line on ttyS0, then sync,
#     remount / read-only, poweroff -f (QEMU exits)
#   - a tiny guest agent (/sbin/tvirt-agent, busybox sh) when the VM has a virtio-serial port named
#     org.qemu.guest_agent.0 (<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>):
#     rcS starts it (unless the kernel cmdline has tvirt.agent=0); it links
#     /dev/virtio-ports/org.qemu.guest_agent.0 (no udev here) and keeps the port open (QEMU:
#     VSERPORT_CHANGE open=true). One JSON command a line, anything up to a 0xFF
#     byte dropped; answers guest-sync {"return": ID}, guest-sync-delimited 0xFF {"return": ID},
#     guest-ping {"return": {}}, others a CommandNotFound error. guest-shutdown answers nothing (as
#     qemu-ga), prints 'TVIRT-AGENT-SHUTDOWN mode=M' on its own line on ttyS0 and, like the ACPI
#     handler, syncs, remounts / read-only and runs poweroff -f (mode powerdown, halt) or reboot -f
#     (mode reboot). No ACPI is involved.
#   - 'reboot' / 'poweroff' in the guest work (busybox init); data written under /data persists
#
# Usage: scripts/build-test-guest.sh [--force]   prints the guest directory on the last line of stdout.
set -eu

RECIPE_VERSION=7   # bump when anything below changes the produced guest
DIR=${TVIRT_GUEST_DIR:-$HOME/.cache/tvirt/guest}
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk failover net_failover virtio_net virtio_console evdev button"

log() { echo "build-test-guest: $*" >&2; }
die() { log "error: $*"; exit 1; }

for t in apt-cache apt-get dpkg dpkg-deb cpio gzip mke2fs qemu-img flock; do
  command -v "$t" >/dev/null 2>&1 || die "missing tool: $t"
done

mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
flock 9

# The real kernel package behind the metapackage (apt-get update only if the lists are empty).
kpkg() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1; }
KPKG=$(kpkg)
if [ -z "$KPKG" ]; then
  log "apt lists do not know linux-image-cloud-amd64; running apt-get update"
  apt-get update -qq >&2 || die "apt-get update failed"
  KPKG=$(kpkg)
fi
[ -n "$KPKG" ] || die "cannot resolve linux-image-cloud-amd64 to a kernel package"
KVER=$(apt-cache policy "$KPKG" | sed -n 's/^ *Candidate: //p')

BUSYBOX=/bin/busybox
STAMP="recipe=$RECIPE_VERSION kernel=$KPKG/$KVER"
if dpkg -s busybox-static >/dev/null 2>&1 && "$BUSYBOX" --list 2>/dev/null | grep -qx switch_root; then
  STAMP="$STAMP busybox=$(dpkg-query -W -f='${Version}' busybox-static)"
else
  BUSYBOX=
  STAMP="$STAMP busybox=download"
fi

if [ "${1:-}" != "--force" ] && [ -f "$DIR/stamp" ] && [ "$(cat "$DIR/stamp")" = "$STAMP" ] &&
  [ -s "$DIR/vmlinuz" ] && [ -s "$DIR/initrd.gz" ] && [ -s "$DIR/root.qcow2" ]; then
  log "up to date: $DIR ($STAMP)"
  echo "$DIR"
  exit 0
fi

log "building $DIR ($STAMP)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tvirt-guest.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
cd "$WORK"

# --- packages ---------------------------------------------------------------------------------
# apt-get download writes to the cwd; _apt cannot write to a mktemp dir, hence the harmless warning.
apt-get download -qq "$KPKG" >&2 2>/dev/null || apt-get download "$KPKG" >&2 || die "apt-get download $KPKG failed"
dpkg -x ./"$KPKG"_*.deb kernel
if [ -z "$BUSYBOX" ]; then
  apt-get download -qq busybox-static >&2 || die "apt-get download busybox-static failed"
  dpkg -x ./busybox-static_*.deb bb
  BUSYBOX="$WORK/bb/bin/busybox"
fi
KREL=$(ls kernel/lib/modules | head -n1)
[ -n "$KREL" ] || die "no modules directory in $KPKG"
grep -q '^CONFIG_EXT4_FS=y' kernel/boot/config-"$KREL" || die "ext4 is not built into $KREL; recipe needs its modules"

# --- common tree: busybox + /etc shared by initramfs and root disk ----------------------------
populate() { # $1 = tree root
  r=$1
  mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/etc/init.d" "$r/etc/acpi/PWRF" \
    "$r/etc/udhcpc" "$r/var/log" "$r/dev" "$r/proc" "$r/sys" "$r/run" "$r/tmp" "$r/mnt" "$r/root" "$r/newroot"
  ln -s ../run "$r/var/run"
  cp "$BUSYBOX" "$r/bin/busybox"
  chmod 755 "$r/bin/busybox"
  for a in $("$BUSYBOX" --list-full); do
    [ -e "$r/$a" ] || ln -s /bin/busybox "$r/$a"
  done
  echo tvirt-guest >"$r/etc/hostname"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
  echo 'root:x:0:' >"$r/etc/group"
  cat >"$r/etc/profile" <<'EOF'
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PS1='tvirt# '
# The first login shell of a boot announces that the guest is up and its console shell is ready.
if [ ! -e /run/tvirt-booted ]; then
  : >/run/tvirt-booted
  printf '\nTVIRT-GUEST-BOOTED\n'
fi
EOF
  cat >"$r/etc/inittab" <<'EOF'
::sysinit:/etc/init.d/rcS
::respawn:/sbin/tvirt-console
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/sync
::shutdown:/bin/umount -a -r
EOF
  cat >"$r/etc/init.d/rcS" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
[ -e /proc/mounts ] || mount -t proc proc /proc
grep -q ' /sys ' /proc/mounts || mount -t sysfs sys /sys
grep -q ' /dev ' /proc/mounts || mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
hostname -F /etc/hostname
ip link set lo up
# acpid does not rescan: wait until the ACPI power button is an input device (button.ko loaded).
i=0
while ! grep -q 'Power Button' /proc/bus/input/devices 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
(acpid -f -c /etc/acpi -l /run/acpid.log -p /run/acpid.pid </dev/null >/dev/null 2>&1 &)
grep -qw 'tvirt.agent=0' /proc/cmdline || (/sbin/tvirt-agent </dev/null >/dev/null 2>&1 &)
if grep -qw 'tvirt.net=1' /proc/cmdline; then
  ip link set eth0 up 2>/dev/null && udhcpc -i eth0 -s /etc/udhcpc/default.script -b -t 5 -T 2 >/dev/null 2>&1
fi
EOF
  cat >"$r/sbin/tvirt-console" <<'EOF'
#!/bin/sh
# The console shell (respawned by init); /etc/profile prints the boot marker once per boot.
exec cttyhack sh -l
EOF
  cat >"$r/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
# ACPI power button (QMP system_powerdown): say so on the console, power off now.
printf '\nTVIRT-ACPI-POWERDOWN\n' >/dev/console 2>/dev/null
exec /sbin/tvirt-halt poweroff
EOF
  cat >"$r/sbin/tvirt-halt" <<'EOF'
#!/bin/sh
# tvirt-halt poweroff|reboot: flush, make / clean, then power off or reset at once (no init run).
sync
umount -a -r 2>/dev/null
mount -o remount,ro / 2>/dev/null
sync
case "$1" in
reboot) reboot -f ;;
*) poweroff -f ;;
esac
EOF
  cat >"$r/sbin/tvirt-agent" <<'EOF'
#!/bin/sh
# A tiny QEMU guest agent on the virtio-serial port org.qemu.guest_agent.0 (see the header of
# scripts/build-test-guest.sh). Exits at once when the VM has no virtio-serial device.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
NAME=org.qemu.guest_agent.0
# virtio_console binds in the initramfs; its ports appear a little later (host PORT_ADD messages).
port=
i=0
while [ -z "$port" ] && [ $i -lt 100 ]; do
  for n in /sys/class/virtio-ports/*/name; do
    [ -r "$n" ] && [ "$(cat "$n")" = "$NAME" ] && { p=${n%/name}; port=${p##*/}; }
  done
  if [ -z "$port" ]; then
    ls /sys/bus/virtio/drivers/virtio_console 2>/dev/null | grep -q '^virtio' || exit 0
    sleep 0.1
    i=$((i + 1))
  fi
done
[ -n "$port" ] || exit 0
i=0
while [ ! -c "/dev/$port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p /dev/virtio-ports
ln -sf "../$port" "/dev/virtio-ports/$NAME"
# Open once and keep open: the host sees the guest side connected while this runs.
exec 3<>"/dev/virtio-ports/$NAME" || exit 1
ff=$(printf '\377')
reply() { printf '%s\n' "$1" >&3; }
while :; do
  # No client on the host side: the port reads end-of-file at once, so poll gently.
  if ! IFS= read -r line <&3; then
    sleep 0.3
    continue
  fi
  # 0xFF resets the parser (guest-sync-delimited clients send it): drop what came before it.
  line=${line##*"$ff"}
  case "$line" in *'"execute"'*) ;; *) continue ;; esac
  cmd=${line#*'"execute"'}
  cmd=${cmd#*'"'}
  cmd=${cmd%%'"'*}
  case "$cmd" in
  guest-sync | guest-sync-delimited)
    id=${line#*'"id"'}
    id=${id#*:}
    id=${id#"${id%%[! ]*}"}
    id=${id%%[!0-9-]*}
    if [ -z "$id" ]; then
      reply '{"error": {"class": "GenericError", "desc": "guest-sync needs an integer id"}}'
    elif [ "$cmd" = guest-sync ]; then
      reply "{\"return\": $id}"
    else
      reply "$ff{\"return\": $id}"
    fi
    ;;
  guest-ping) reply '{"return": {}}' ;;
  guest-shutdown)
    mode=powerdown
    case "$line" in *'"mode"'*)
      mode=${line#*'"mode"'}
      mode=${mode#*'"'}
      mode=${mode%%'"'*}
      ;;
    esac
    case "$mode" in
    powerdown | halt) how=poweroff ;;
    reboot) how=reboot ;;
    *)
      reply "{\"error\": {\"class\": \"GenericError\", \"desc\": \"invalid mode $mode\"}}"
      continue
      ;;
    esac
    # Like qemu-ga: no answer to a shutdown that goes ahead.
    printf '\nTVIRT-AGENT-SHUTDOWN mode=%s\n' "$mode" >/dev/console 2>/dev/null
    exec 3>&-
    exec /sbin/tvirt-halt "$how"
    ;;
  *) reply "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command $cmd has not been found\"}}" ;;
  esac
done
EOF
  cat >"$r/etc/udhcpc/default.script" <<'EOF'
#!/bin/sh
# udhcpc hook: set the address, default route and resolver from the lease.
case "$1" in
deconfig)
  ip addr flush dev "$interface"
  ip link set "$interface" up
  ;;
bound | renew)
  ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" ${broadcast:+broadcast "$broadcast"} up
  while route del default gw 0.0.0.0 dev "$interface" 2>/dev/null; do :; done
  for gw in $router; do route add default gw "$gw" dev "$interface"; done
  : >/etc/resolv.conf
  for ns in $dns; do echo "nameserver $ns" >>/etc/resolv.conf; done
  ;;
esac
exit 0
EOF
  chmod 755 "$r/etc/init.d/rcS" "$r/sbin/tvirt-console" "$r/sbin/tvirt-halt" "$r/sbin/tvirt-agent" \
    "$r/etc/acpi/PWRF/00000080" "$r/etc/udhcpc/default.script"
}

# --- initramfs --------------------------------------------------------------------------------
populate initramfs
mkdir -p initramfs/lib/modules
for m in $MODULES; do
  f=$(find kernel/lib/modules/"$KREL" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n1)
  [ -n "$f" ] || die "module $m not found in $KPKG"
  case "$f" in
  *.xz) xz -dc "$f" >initramfs/lib/modules/"$m".ko ;;
  *.zst) zstd -qdc "$f" >initramfs/lib/modules/"$m".ko ;;
  *) cp "$f" initramfs/lib/modules/"$m".ko ;;
  esac
done
cat >initramfs/init <<EOF
#!/bin/busybox sh
# initramfs: load virtio/input modules (order matters), mount /dev/vda (ext4) and switch_root to it.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $MODULES; do
  insmod /lib/modules/\$m.ko || echo "tvirt initramfs: insmod \$m failed" >/dev/console
done
root=/dev/vda
for a in \$(cat /proc/cmdline); do case "\$a" in tvirt.root=*) root=\${a#tvirt.root=} ;; esac; done
i=0
while [ ! -b "\$root" ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done
if [ -b "\$root" ] && mount -t ext4 -o rw "\$root" /newroot && [ -x /newroot/sbin/init ]; then
  umount /proc /sys
  mount --move /dev /newroot/dev
  exec switch_root /newroot /sbin/init
fi
echo "tvirt initramfs: no root disk at \$root; staying in the initramfs" >/dev/console
umount /newroot 2>/dev/null
umount /proc /sys
exec /sbin/init
EOF
chmod 755 initramfs/init
(cd initramfs && find . | cpio -o -H newc --quiet | gzip -9) >initrd.gz

# --- root disk --------------------------------------------------------------------------------
populate rootfs
rmdir rootfs/newroot
mkdir -p rootfs/data
echo "tvirt test guest root disk, recipe $RECIPE_VERSION" >rootfs/etc/tvirt-root
truncate -s 64M root.raw
mke2fs -q -t ext4 -L tvirt-root -d rootfs -E root_owner=0:0 root.raw >&2 || die "mke2fs -d failed"
qemu-img convert -f raw -O qcow2 root.raw root.qcow2

# --- install atomically -----------------------------------------------------------------------
mkdir -p "$DIR"
cp kernel/boot/vmlinuz-"$KREL" "$DIR/vmlinuz.new"
cp initrd.gz "$DIR/initrd.gz.new"
cp root.qcow2 "$DIR/root.qcow2.new"
mv -f "$DIR/vmlinuz.new" "$DIR/vmlinuz"
mv -f "$DIR/initrd.gz.new" "$DIR/initrd.gz"
mv -f "$DIR/root.qcow2.new" "$DIR/root.qcow2"
echo "$STAMP" >"$DIR/stamp"
log "built $DIR"
echo "$DIR"
