#!/usr/bin/env bash
# Install what pybcc and its tests need on a Debian 12 machine (as root) and
# mount the kernel file systems it uses. Safe to run again.
#   clang-16        compiles BPF C (any clang >= 11, or pip's ziglang, works too)
#   bpftool, libbpf-dev   test oracles (libbpf loads the same objects)
#   libbpf-tools          their objects are loaded by the tests (javagc)
#   systemtap-sdt-dev     <sys/sdt.h> for the USDT test programs
#   bpfcc-tools           bcc's own tools, run unmodified by `pytest -m bcctools`
#   prometheus            the real server tests/exporter/test_prometheus.py scrapes with
#   openssl               certificates for the exporter's TLS test
#   chromium, chromium-driver   headless browser for the flame graph/heat map tests
#   ruby3.1, php8.2-cli   runtimes with USDT probes for the u* tools' tests (python3.11
#                         and openjdk-17 have theirs; Debian's node/perl/tcl have none)
#   postgresql, mariadb-server-core, mariadb-client-core   servers the database tools' tests start
#   libgnutls28-dev, libnss3-dev, libssl-dev   TLS clients the sslsniff test builds
#   xfsprogs, btrfs-progs, f2fs-tools   mkfs for the per-file-system tools' tests
#   rdmacm-utils, ibverbs-providers   rping and the soft-RoCE provider for rdmaucma's VM test
#   nfs-kernel-server     exportfs, rpc.nfsd, rpc.mountd: a loopback NFS server for nfsslower/nfsdist (VM)
#   iputils-ping, ethtool   bcc's own namespace tests (scripts/bcc-pytests.py) ping and set offloads
#   kmod                  modprobe: the tests load loop, file systems, md and rdma where they are modules
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
packages=(clang-16 llvm-16 bpftool libbpf-dev libbpf-tools systemtap-sdt-dev gcc make bpfcc-tools
          prometheus openssl chromium chromium-driver ruby3.1 php8.2-cli
          postgresql mariadb-server-core mariadb-client-core libgnutls28-dev libnss3-dev libssl-dev
          xfsprogs btrfs-progs f2fs-tools rdmacm-utils ibverbs-providers nfs-kernel-server
          iputils-ping ethtool kmod)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
python3 -m pip install -q -e '.[test,compiler,exporter]'
# speedscope's own viewer, for the test that opens our speedscope files in it
if command -v npm >/dev/null 2>&1 && [ ! -d /var/cache/pybcc-npm/node_modules/speedscope ]; then
    npm install --silent --no-audit --no-fund --prefix /var/cache/pybcc-npm speedscope@1.25.0 || true
fi
command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
# Compile the tools once now (CO-RE objects load on any kernel), so that a
# tool's first run needs no compiler and no vmlinux.h; and for arm64 too,
# against Debian's arm64 kernel (the wheel carries both; tests check them).
python3 -m pybcc.tools.lib.prebuilt
if arm64_kernel=$(bash scripts/arm64-kernel.sh); then
    python3 -m pybcc.tools.lib.prebuilt --arch arm64 --btf "$arm64_kernel" \
        || echo "setup: some arm64 objects did not build (tests/test_arm64.py says which)" >&2
else
    echo "setup: no arm64 kernel image; arm64 objects not built" >&2
fi
# and the exporter's built-in metric sets
python3 -m pybcc.exporter.objects
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing || true
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || true
