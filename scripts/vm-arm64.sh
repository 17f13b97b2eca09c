#!/usr/bin/env bash
# scripts/vm-arm64.sh [PYTEST ARGS...]
#
# Run a smoke subset of pybcc's tests on arm64: Debian bookworm's arm64 kernel
# (scripts/arm64-kernel.sh) under qemu-system-aarch64 (TCG), with an arm64
# root made by mmdebstrap (python3, pytest, pyelftools, busybox; packages only
# unpacked, no maintainer scripts, so no binfmt/qemu-user is needed) and
# loaded whole as the initramfs. This repo is shared read-only over 9p at the
# same path; pybcc is pure Python, and the tools' arm64 objects are the
# prebuilt ones (pybcc/tools/prebuilt/arm64/, made by scripts/setup.sh).
#
#   sudo scripts/vm-arm64.sh                       # the default subset
#   sudo scripts/vm-arm64.sh tests/tools/test_x.py -k y
#
# Default subset (7 tests), each tool's prebuilt arm64 object loaded with its
# CO-RE relocations against the guest's BTF: funccount counting one
# process's getppid() through a tracepoint and through a uprobe on libc
# (BPF cookies, per-CPU map; text and --json); execsnoop (syscall
# tracepoints, ring buffer events); opensnoop (open tracepoints, a failed
# open); cpudist -O -P -p (tp_btf sched_switch, histogram hash map);
# capable (kprobe on cap_capable, its arguments read from arm64's pt_regs).
# Environment: PYBCC_VMTEST_CACHE (default /var/cache/pybcc-vmtest; this uses
# its arm64/ directory), PYBCC_VMTEST_TIMEOUT (seconds, default 900),
# VMTEST_CPUS (2), VMTEST_MEM (1024 MB), VMTEST_VERBOSE=1 (kernel messages).
# Exit status: pytest's in the guest; 125 if the guest reported none; 2 if
# set-up failed. See docs/VMTEST.md.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
CACHE=${PYBCC_VMTEST_CACHE:-/var/cache/pybcc-vmtest}/arm64
PACKAGES=python3-minimal,libpython3.11-stdlib,python3-pyelftools,python3-pytest,busybox-static
# The default subset: one test per mechanism (see the header)
T=tests/tools
[ $# -gt 0 ] || set -- \
    $T/test_funccount.py::test_funccount_counts_one_process \
    $T/test_funccount.py::test_funccount_json_counts_one_process_per_interval \
    $T/test_execsnoop.py::test_execsnoop_shows_marker_exec_with_fields \
    $T/test_opensnoop.py::test_opensnoop_open_and_failed_open \
    $T/test_cpudist.py::test_cpudist_offcpu_sees_50ms_sleeps_of_one_process \
    $T/test_capable.py::test_capable_kprobe_path

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
die() { echo "vm-arm64: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "must run as root (apt, qemu, bpf in the guest)"
t0=$(now)
missing=()
command -v qemu-system-aarch64 >/dev/null || missing+=(qemu-system-arm)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v cpio >/dev/null || missing+=(cpio)
if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 \
        || die "apt-get install ${missing[*]} failed"
fi
kernel=$(bash scripts/arm64-kernel.sh "$CACHE") || die "no arm64 kernel"
rel=${kernel##*/vmlinuz-}
ls pybcc/tools/prebuilt/arm64/*.o >/dev/null 2>&1 \
    || die "no arm64 tool objects: python3 -m pybcc.tools.lib.prebuilt --arch arm64 --btf $kernel"

# --- the guest's root, built once (the stamp names its packages and kernel) --
root=$CACHE/root
initrd=$CACHE/initrd-$rel.cpio.gz
stamp="$PACKAGES $rel $(sha256sum "$0" | cut -c1-16)"
if [ "$(cat "$root/.pybcc-stamp" 2>/dev/null)" != "$stamp" ] || [ ! -s "$initrd" ]; then
    t1=$(now)
    mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs: *//p' | grep -v security | head -1)
    [ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | grep -v security | head -1)
    rm -rf "$root.tmp" && mkdir -p "$root.tmp"
    mmdebstrap -q --variant=extract --architectures=arm64 --include="$PACKAGES" \
        bookworm - "${mirror:-http://deb.debian.org/debian}" | tar -x -C "$root.tmp" \
        || die "mmdebstrap of the arm64 root failed"
    rm -rf "$root.tmp"/usr/share/{doc,man,locale,info}
    # Unpacked, not installed: no postinst byte-compiled the python modules,
    # and compiling them at every import under TCG costs a minute. The host's
    # python 3.11 writes the same .pyc (the guest's is Debian's 3.11).
    guest_py=$(ls "$root.tmp"/usr/bin/python3.* | head -1)
    [ "$(python3 -c 'import sys; print("python%d.%d" % sys.version_info[:2])')" = "${guest_py##*/}" ] \
        && python3 -m compileall -q -j 0 -s "$root.tmp" -p / "$root.tmp/usr/lib/${guest_py##*/}" \
            "$root.tmp/usr/lib/python3/dist-packages" >/dev/null
    mkdir -p "$root.tmp/lib/modules" "$root.tmp"/{proc,sys,dev,tmp,run}
    cp -a "$CACHE/lib/modules/$rel" "$root.tmp/lib/modules/"
    cat >"$root.tmp/init" <<'EOF'
#!/bin/busybox sh
# pybcc arm64 guest: mount what BPF tools need, share the repo, run the
# command from the kernel command line, report its status, power off.
B=/bin/busybox
$B mkdir -p /proc /sys /dev /tmp /run
$B mount -t proc proc /proc; $B mount -t sysfs sys /sys; $B mount -t devtmpfs dev /dev
$B mount -t tmpfs tmp /tmp
$B mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
$B mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
$B mount -t bpf bpf /sys/fs/bpf 2>/dev/null
M=/lib/modules/$($B uname -r)/kernel
for m in drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev \
         drivers/virtio/virtio_pci net/9p/9pnet net/9p/9pnet_virtio fs/netfs/netfs \
         fs/fscache/fscache fs/9p/9p; do $B insmod $M/$m.ko; done
REPO=$($B sed -n 's/.*pybcc.repo=\([^ ]*\).*/\1/p' /proc/cmdline)
$B mkdir -p "$REPO"
$B mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose repo "$REPO"
cd "$REPO"
export PATH=/usr/bin:/bin:/usr/sbin:/sbin:/usr/local/bin HOME=/tmp PYBCC_VMTEST=1 PYBCC_CACHE_DIR=/tmp/pybcc-cache
export PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$REPO
echo "vm-arm64: guest $($B uname -r) $($B uname -m), $(python3 --version)"
/bin/busybox sh /.pybcc-cmd 2>&1; rc=$?
echo "vm-arm64: guest-exit $rc"
$B poweroff -f
EOF
    chmod +x "$root.tmp/init"
    # busybox's applets as commands (mountpoint, ...) where Debian has none:
    # the list from the host's busybox (the same Debian version)
    mkdir -p "$root.tmp/usr/local/bin"
    for a in $(busybox --list 2>/dev/null); do
        [ -e "$root.tmp/usr/bin/$a" ] || [ -e "$root.tmp/bin/$a" ] || ln -s /bin/busybox "$root.tmp/usr/local/bin/$a"
    done
    ln -s busybox "$root.tmp/bin/echo"     # execsnoop's test runs /bin/echo
    # ... and mountpoint -q (tests/conftest.py), which Debian's busybox lacks
    printf '%s\n' '#!/bin/busybox sh' '[ "$1" = -q ] && shift' \
        '[ "$(stat -c %d "$1")" != "$(stat -c %d "$1/..")" ]' >"$root.tmp/usr/local/bin/mountpoint"
    chmod +x "$root.tmp/usr/local/bin/mountpoint"
    (cd "$root.tmp" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd.tmp" \
        || die "initramfs failed"
    echo "$stamp" >"$root.tmp/.pybcc-stamp"
    rm -rf "$root" && mv "$root.tmp" "$root" && mv "$initrd.tmp" "$initrd"
    echo "vm-arm64: arm64 root built in $(secs "$t1" "$(now)") s ($(du -sh "$initrd" | cut -f1) initramfs)"
fi
echo "vm-arm64: set-up $(secs "$t0" "$(now)") s; kernel $rel"

# The command goes in through a second small initramfs (appended cpio),
# so the big cached one never changes.
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cmd="python3 -m pytest -q -ra -p no:cacheprovider --color=no"
for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
mkdir -p "$w/c" && printf '%s\n' "$cmd" >"$w/c/.pybcc-cmd"
(cd "$w/c" && find . | cpio -o -H newc --quiet | gzip -1) >"$w/cmd.cpio.gz"
cat "$initrd" "$w/cmd.cpio.gz" >"$w/initrd"

t0=$(now)
quiet="quiet loglevel=1"
[ "${VMTEST_VERBOSE:-0}" = 1 ] && quiet=""
timeout --kill-after=10 "${PYBCC_VMTEST_TIMEOUT:-900}" qemu-system-aarch64 \
    -M virt -cpu max,pauth-impdef=on -accel tcg,thread=multi \
    -smp "${VMTEST_CPUS:-2}" -m "${VMTEST_MEM:-1024}" -nographic -no-reboot \
    -kernel "$kernel" -initrd "$w/initrd" \
    -append "console=ttyAMA0 rdinit=/init panic=-1 $quiet pybcc.repo=$REPO" \
    -fsdev "local,id=repo,path=$REPO,security_model=none,readonly=on" \
    -device virtio-9p-pci,fsdev=repo,mount_tag=repo </dev/null | tee "$w/console" | tr -d '\r'
rc=$(sed -n 's/.*vm-arm64: guest-exit \([0-9]*\).*/\1/p' "$w/console" | tail -1)
echo "vm-arm64: boot+run $(secs "$t0" "$(now)") s, guest exit ${rc:-none}"
exit "${rc:-125}"
