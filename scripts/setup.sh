#!/usr/bin/env bash
# Install what pybcc needs on a Debian 12 machine (as root) and mount the
# kernel file systems it uses. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
if ! command -v clang-16 >/dev/null || ! command -v bpftool >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq clang-16 llvm-16 bpftool libbpf-dev >/dev/null
fi
python3 -m pip install -q -e '.[test,compiler]'
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing || true
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || true
