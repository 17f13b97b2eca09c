#!/bin/bash
# Copied from the workplace's /work/shared/vmtest/vmtest.sh (shared vmtest runner),
# kept here so that a clean clone of pybcc is self-contained. Keep in sync.
# vmtest.sh KERNEL_IMAGE 'COMMAND'
#
# Boot KERNEL_IMAGE (e.g. a Debian vmlinuz unpacked with `dpkg -x` into DIR, so
# that DIR/boot/vmlinuz-VER and DIR/lib/modules/VER exist) in QEMU with the
# host's root filesystem shared read-only over 9p (plus a throw-away tmpfs
# overlay so the guest can write anywhere), run COMMAND with /bin/sh in the
# current directory, print its stdout+stderr, power off, and exit with
# COMMAND's exit status.
#
# Needs on the host: qemu-system-x86 (qemu-system-x86_64), busybox-static
# (/bin/busybox), kmod (depmod/modprobe), cpio, gzip; and, for .ko.xz/.ko.zst
# modules, xz-utils/zstd.
#
# Environment knobs:
#   VMTEST_MODDIR   modules dir of the kernel (default: derived from image path)
#   VMTEST_MEM      guest memory (default 2G)
#   VMTEST_CPUS     guest vCPUs (default: host nproc)
#   VMTEST_ACCEL    kvm|tcg (default: kvm if /dev/kvm is usable for stock
#                   kernels, i.e. not a PVM-only host; else tcg)
#   VMTEST_TIMEOUT  seconds before QEMU is killed (default 600)
#   VMTEST_RWDIRS   space-separated host dirs to share read-WRITE (same path
#                   in guest), e.g. for test reports; all else is copy-on-write
#   VMTEST_TMPSIZE  size of the tmpfs holding the guest's writes (default 50%)
#   VMTEST_CONSOLE  file to keep the guest kernel console log in
#   VMTEST_CACHE    initramfs/vmlinux cache dir (default /tmp/vmtest-cache)
#   VMTEST_PVH      1 (default): boot an extracted ELF vmlinux via PVH; 0: bzImage
#   VMTEST_CPU      QEMU -cpu model under TCG (default max)
#   VMTEST_PATH     PATH inside the guest (default: caller's PATH, pyenv shims
#                   replaced by `pyenv which python3`'s directory)
#   VMTEST_ENV      extra variable names to pass into the guest
#   VMTEST_FS       9p (default) or virtiofs for the shared host root
#   VMTEST_KVER     kernel release if the image is not named vmlinu[xz]-RELEASE
#   VMTEST_VERBOSE  1: print kernel console to stderr after the run
#   VMTEST_APPEND   extra kernel command line (e.g. loglevel=7)
set -u
KIMG=${1:?usage: vmtest.sh KERNEL_IMAGE COMMAND}
CMD=${2:?usage: vmtest.sh KERNEL_IMAGE COMMAND}
KIMG=$(readlink -f "$KIMG")
[ -r "$KIMG" ] || { echo "vmtest: no kernel image $KIMG" >&2; exit 125; }

die() { echo "vmtest: $*" >&2; exit 125; }

CACHE=${VMTEST_CACHE:-/tmp/vmtest-cache}
mkdir -p "$CACHE"

# --- kernel version & modules ------------------------------------------------
base=$(basename "$KIMG")
KVER=${VMTEST_KVER:-${base#vmlinu[xz]-}}
KIMG_ORIG=$KIMG

# A bzImage is decompressed once (cached) into an ELF vmlinux with a PVH entry
# note and booted directly: under TCG this saves ~5 s of BIOS + decompressor.
if [ "${VMTEST_PVH:-1}" = 1 ] && [ "$(dd if="$KIMG" bs=1 skip=514 count=4 2>/dev/null | tr -d '\0')" = HdrS ]; then
    ELF="$CACHE/vmlinux-$KVER-$(stat -c %s-%Y "$KIMG")"
    if [ ! -s "$ELF" ]; then
        python3 - "$KIMG" "$ELF.tmp" <<'PYEOF' && mv "$ELF.tmp" "$ELF" || rm -f "$ELF.tmp"
import sys, lzma, zlib, subprocess
data = open(sys.argv[1], 'rb').read()
for magic, kind in [(b'\xfd7zXZ\x00', 'xz'), (b'\x28\xb5\x2f\xfd', 'zstd'), (b'\x1f\x8b\x08', 'gz')]:
    pos = data.find(magic)
    while pos != -1:
        try:
            if kind == 'xz':
                out = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[pos:])
            elif kind == 'gz':
                out = zlib.decompressobj(31).decompress(data[pos:])
            else:
                out = subprocess.run(['zstd', '-qdc'], input=data[pos:], capture_output=True).stdout
        except Exception:
            out = b''
        # ELF with a Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY = 18)
        if out[:4] == b'\x7fELF' and b'\x12\x00\x00\x00Xen\x00' in out:
            open(sys.argv[2], 'wb').write(out); sys.exit(0)
        pos = data.find(magic, pos + 1)
sys.exit(1)
PYEOF
    fi
    [ -s "$ELF" ] && KIMG=$ELF
fi
if [ -z "${VMTEST_MODDIR:-}" ]; then
    root=$(dirname "$(dirname "$KIMG_ORIG")")
    for d in "$root/lib/modules/$KVER" "$root/usr/lib/modules/$KVER"; do
        [ -d "$d" ] && VMTEST_MODDIR=$d && break
    done
fi
MODDIR=${VMTEST_MODDIR:-}
[ -n "$MODDIR" ] && [ -d "$MODDIR" ] || die "cannot find modules dir for $KVER (set VMTEST_MODDIR)"
MODDIR=$(readlink -f "$MODDIR")
MODBASE=$(dirname "$(dirname "$(dirname "$MODDIR")")")   # .../lib/modules/VER -> ...
if [ ! -e "$MODDIR/modules.dep" ]; then
    depmod -b "$MODBASE" "$KVER" || die "depmod failed for $MODDIR"
fi

# --- initramfs (cached per kernel) -------------------------------------------
SELF_SUM=$(sha1sum "$0" | cut -c1-8)
INITRD="$CACHE/initrd-$KVER-$SELF_SUM.cpio.gz"
if [ ! -s "$INITRD" ]; then
    W=$(mktemp -d /tmp/vmtest-initrd.XXXXXX)
    mkdir -p "$W"/{bin,dev,proc,sys,lower,rw,newroot,mods}
    cp /bin/busybox "$W/bin/busybox" || die "need busybox-static (/bin/busybox)"
    mknod "$W/dev/console" c 5 1
    # modules needed before the root is mounted, in dependency order
    mods=$(modprobe -d "$MODBASE" -S "$KVER" --show-depends -a \
              9p 9pnet_virtio virtiofs virtio_pci virtio_console overlay 2>/dev/null \
           | awk '$1=="insmod"{print $2}' | awk '!seen[$0]++')
    : > "$W/mods/order"
    for m in $mods; do
        n=$(basename "$m"); n=${n%.xz}; n=${n%.zst}; n=${n%.gz}
        case "$m" in
            *.xz)  xz -dc "$m" > "$W/mods/$n" ;;
            *.zst) zstd -qdc "$m" > "$W/mods/$n" ;;
            *.gz)  gzip -dc "$m" > "$W/mods/$n" ;;
            *)     cp "$m" "$W/mods/$n" ;;
        esac
        echo "$n" >> "$W/mods/order"
    done
    cat > "$W/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do insmod /mods/$m 2>/dev/null; done
arg() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" /proc/cmdline | head -1; }
if [ "$(arg vmtest.fs)" = virtiofs ]; then
  mount -t virtiofs -o ro hostroot /lower
else
  mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower
fi || { echo "vmtest-init: cannot mount host root"; poweroff -f; }
mount -t tmpfs -o size=$(arg vmtest.tmpsize) rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || { echo "vmtest-init: overlay failed"; poweroff -f; }
R=/newroot
mount -t proc proc $R/proc; mount -t sysfs sysfs $R/sys; mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm; mount -t devpts devpts $R/dev/pts; mount -t tmpfs shm $R/dev/shm
mount -t tmpfs run $R/run
mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs $R/sys/kernel/tracing 2>/dev/null
mount -t bpf bpf $R/sys/fs/bpf 2>/dev/null
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup 2>/dev/null
mkdir -p $R/lib/modules/$(uname -r); mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose mods $R/lib/modules/$(uname -r)
# read-write shares: tags rw0, rw1, ... with guest paths in vmtest.rwN=
i=0; while :; do p=$(arg vmtest.rw$i); [ -n "$p" ] || break
  mkdir -p $R$p; mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 rw$i $R$p; i=$((i+1)); done
# virtio-serial ports by name (no udev needed)
mkdir -p $R/dev/virtio-ports
for p in /sys/class/virtio-ports/*; do [ -e "$p/name" ] && ln -sf ../$(basename $p) $R/dev/virtio-ports/$(cat $p/name); done
mkdir -p $R/.vmtest; cp /bin/busybox $R/.vmtest/busybox
cat > $R/.vmtest/stage2 <<'EOS'
B=/.vmtest/busybox
export HOME=/root USER=root LOGNAME=root TERM=dumb LANG=C.UTF-8
export PATH=/root/.pyenv/shims:/root/.pyenv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
$B hostname vmtest
$B ip link set lo up 2>/dev/null
CMDF=$($B sed -n 's/.* vmtest.cmd=\([^ ]*\).*/\1/p' /proc/cmdline)
. "$CMDF.env" 2>/dev/null
/bin/sh "$CMDF" </dev/null >/dev/virtio-ports/vmtest.out 2>&1
rc=$?
echo "$rc" > /dev/virtio-ports/vmtest.rc
$B sync
$B poweroff -f
EOS
exec switch_root /newroot /.vmtest/busybox sh /.vmtest/stage2
EOF
    chmod +x "$W/init"
    (cd "$W" && find . | cpio -o -H newc --quiet | gzip -1) > "$INITRD.tmp" && mv "$INITRD.tmp" "$INITRD"
    rm -rf "$W"
fi

# --- run -----------------------------------------------------------------------
T=$(mktemp -d /tmp/vmtest-run.XXXXXX)
trap '[ -n "${vfsd_pid:-}" ] && kill $vfsd_pid 2>/dev/null; rm -rf "$T"' EXIT
trap 'kill $qpid 2>/dev/null' INT TERM
printf '%s\n' "$CMD" > "$T/cmd"
# PATH for the guest: the caller's, but with pyenv shims (bash scripts that
# fork a dozen processes per call: ~15 s each under TCG) replaced by the
# resolved interpreter's bin dir.
GPATH=${VMTEST_PATH:-$PATH}
if [ -z "${VMTEST_PATH:-}" ] && command -v pyenv >/dev/null 2>&1; then
    py=$(pyenv which python3 2>/dev/null) && GPATH=$(dirname "$py"):$(printf '%s' "$PATH" | tr ':' '\n' | grep -v '/shims$' | paste -sd:)
fi
# pass through a few variables of the caller
{ printf 'export PATH=%q\n' "$GPATH"
  printf 'cd %q 2>/dev/null || cd /\n' "$(pwd)"
  for v in CI PYTHONPATH PYTHONDONTWRITEBYTECODE VIRTUAL_ENV PYTEST_ADDOPTS \
           PYTEST_DISABLE_PLUGIN_AUTOLOAD ${VMTEST_ENV:-}; do
    [ -n "${!v+x}" ] && printf 'export %s=%q\n' "$v" "${!v}"; done; } > "$T/cmd.env"
: > "$T/rc"; : > "$T/out"

ACCEL=${VMTEST_ACCEL:-}
if [ -z "$ACCEL" ]; then
    if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]; then ACCEL=kvm; else ACCEL=tcg; fi
fi
if [ "$ACCEL" = kvm ]; then
    ACCEL_OPTS=(-accel kvm -cpu host)
else
    ACCEL_OPTS=(-accel tcg,thread=multi,tb-size=512 -cpu "${VMTEST_CPU:-max}")
fi
CPUS=${VMTEST_CPUS:-$(nproc)}
MEM=${VMTEST_MEM:-2G}
CONSOLE=${VMTEST_CONSOLE:-$T/console.log}

APPEND="console=ttyS0 loglevel=4 panic=-1 oops=panic no_timer_check tsc=reliable"
APPEND+=" ${VMTEST_APPEND:-} vmtest.cmd=$T/cmd vmtest.tmpsize=${VMTEST_TMPSIZE:-50%}"
RWOPTS=()
i=0
for d in ${VMTEST_RWDIRS:-}; do
    d=$(readlink -f "$d")
    RWOPTS+=(-fsdev "local,id=rwfs$i,path=$d,security_model=none,multidevs=remap"
             -device "virtio-9p-pci,fsdev=rwfs$i,mount_tag=rw$i")
    APPEND+=" vmtest.rw$i=$d"
    i=$((i+1))
done

# host root for the guest: 9p (default, nothing else needed) or virtiofs
# (VMTEST_FS=virtiofs; needs a virtiofsd: /usr/lib/qemu/virtiofsd or the
# `virtiofsd` package's /usr/libexec/virtiofsd)
FS=${VMTEST_FS:-9p}
APPEND+=" vmtest.fs=$FS"
if [ "$FS" = virtiofs ]; then
    VFSD=${VMTEST_VIRTIOFSD:-}
    for c in /usr/libexec/virtiofsd /usr/lib/qemu/virtiofsd; do
        [ -z "$VFSD" ] && [ -x "$c" ] && VFSD=$c
    done
    [ -n "$VFSD" ] || die "VMTEST_FS=virtiofs but no virtiofsd found"
    if "$VFSD" --help 2>&1 | grep -q -- '--shared-dir'; then   # Rust virtiofsd
        "$VFSD" --socket-path="$T/vfs.sock" --shared-dir=/ --cache=always --sandbox=none \
            --readonly 2>"$T/virtiofsd.log" &
    else                                                         # legacy C virtiofsd
        "$VFSD" --socket-path="$T/vfs.sock" -o source=/,cache=always,sandbox=chroot \
            -f 2>"$T/virtiofsd.log" &
    fi
    vfsd_pid=$!
    for _ in $(seq 50); do [ -S "$T/vfs.sock" ] && break; sleep 0.1; done
    ROOTFS_OPTS=(-object "memory-backend-memfd,id=mem,size=$MEM,share=on" -numa node,memdev=mem
                 -chardev "socket,id=vfs,path=$T/vfs.sock"
                 -device vhost-user-fs-pci,chardev=vfs,tag=hostroot,queue-size=1024)
else
    ROOTFS_OPTS=(-fsdev "local,id=rootfs,path=/,security_model=none,readonly=on,multidevs=remap"
                 -device virtio-9p-pci,fsdev=rootfs,mount_tag=hostroot)
fi

timeout --kill-after=10 "${VMTEST_TIMEOUT:-600}" qemu-system-x86_64 \
    "${ACCEL_OPTS[@]}" -machine q35 -smp "$CPUS" -m "$MEM" \
    -nodefaults -no-user-config -display none -vga none -net none -no-reboot \
    -serial "file:$CONSOLE" \
    -kernel "$KIMG" -initrd "$INITRD" -append "$APPEND" \
    "${ROOTFS_OPTS[@]}" \
    -fsdev "local,id=modfs,path=$MODDIR,security_model=none,readonly=on" \
    -device virtio-9p-pci,fsdev=modfs,mount_tag=mods \
    "${RWOPTS[@]}" \
    -device virtio-serial-pci \
    -chardev "file,id=out,path=$T/out" -device virtserialport,chardev=out,name=vmtest.out \
    -chardev "file,id=rc,path=$T/rc" -device virtserialport,chardev=rc,name=vmtest.rc \
    < /dev/null &
qpid=$!
# stream the command's output while the guest runs
tail -n +1 -s 0.1 -f --pid=$qpid "$T/out" 2>/dev/null
wait $qpid
qrc=$?
[ "${VMTEST_VERBOSE:-0}" = 1 ] && cat "$CONSOLE" >&2
rc=$(tr -dc '0-9' < "$T/rc")
if [ -z "$rc" ]; then
    echo "vmtest: no exit status from guest (qemu rc=$qrc); console tail:" >&2
    tail -n 40 "$CONSOLE" >&2
    exit 125
fi
exit "$rc"
