#!/bin/bash
# Install what the benchmarks compare against (Debian 12): the reference tools,
# gcc for the workloads, and the nearest Debian kernel's headers so that bcc
# (which compiles C against kernel headers at start-up) can run at all.
# Idempotent. Prints the directory to use as BCC_KERNEL_SOURCE (last line).
set -e
export DEBIAN_FRONTEND=noninteractive
headers() { ls -d /usr/src/linux-headers-6.12.*-amd64 /usr/src/linux-headers-6.1.*-amd64 2>/dev/null \
            | grep -v -e cloud -e '-rt-' | sort -V | tail -1; }
need=""
for p in bpfcc-tools libbpf-tools bpftrace bpftool gcc libc6-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -z "$(headers)" ]; then
    # newest generic linux-headers-6.12.*-amd64, else 6.1 (this kernel is 6.18
    # and Debian 12 has no package for it). Note: the package depends on the
    # matching linux-image, which apt installs into /boot too (harmless here).
    apt-cache show linux-headers-amd64 >/dev/null 2>&1 || apt-get update -qq >&2
    pkg=$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' | awk '{print $1}' | sort -V | tail -1)
    [ -n "$pkg" ] || pkg=$(apt-cache search --names-only '^linux-headers-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
    need="$need $pkg"
fi
if [ -n "$need" ]; then
    echo "setup: apt-get install$need" >&2
    apt-get install -y -qq --no-install-recommends $need >&2 ||
        { apt-get update -qq >&2; apt-get install -y -qq --no-install-recommends $need >&2; }
fi
command -v py-spy >/dev/null || pip install -q py-spy >&2 2>/dev/null || true
# the soak's plot (benchmarks/soak.py) and the fuzz coverage (benchmarks/fuzz.py)
python3 -c "import matplotlib, coverage" 2>/dev/null || pip install -q matplotlib coverage >&2 || true
[ -e /sys/kernel/tracing/events ] || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
awk '$2 == "/sys/fs/bpf" {f=1} END {exit !f}' /proc/mounts || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
# bcc wants one kernel tree (BCC_KERNEL_SOURCE) but Debian splits headers into
# -common and -amd64: merge them as a symlink farm private to the benchmarks.
src=$(headers)
if [ -n "$src" ]; then
    ver=${src#/usr/src/linux-headers-}; ver=${ver%-amd64}
    out=/var/tmp/pybcc-bench/kheaders-$ver
    if [ ! -e "$out/include/generated" ]; then
        rm -rf "$out"; mkdir -p "$out"
        cp -as "/usr/src/linux-headers-$ver-common/." "$out/"
        cp -asf "$src/." "$out/"
    fi
    echo "$out"
fi
