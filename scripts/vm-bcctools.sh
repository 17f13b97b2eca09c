#!/usr/bin/env bash
# scripts/vm-bcctools.sh: bcc's tools (Debian's bpfcc-tools) under `pybcc run`,
# here and inside the VM on stock Debian kernels, and docs/BCC_FIDELITY.md
# (tool, result here, result per VM kernel) written from the runs.
#
#   sudo scripts/vm-bcctools.sh
#
# 1. Here: `pytest -m bcctools tests/test_bcc_tools.py`, its table kept in
#    $OUT/host.txt (reused when present; PYBCC_BCCTOOLS_RERUN_HOST=1 reruns it).
# 2. In the VM (scripts/vm-tests.sh, one boot per kernel of
#    PYBCC_VMTEST_KERNELS, default 6.1 and 6.12): the same test, restricted
#    to the tools that refuse here (kprobes/fentry missing), its table written
#    to $OUT/vm-RELEASE.txt through a read-write share (a failing tool's
#    output to vm-RELEASE.txt.log). PYBCC_BCCTOOLS_VM_TOOLS="a b" reruns
#    only those tools, keeping the table's other rows.
# 3. docs/BCC_FIDELITY.md from those tables (python3 tests/bcc_tools.py --markdown).
#
# Not in CI: under TCG on a 2-core host shared with other jobs one kernel's
# 49 tools take 33 min (6.1) to 44 min (6.12) (measured 2026-12-06 beside
# two other engineers' VMs, load 13-15: 3 tools at a time, ~100-230 s per
# tool to its first line), a rerun of 8 tools 8.5 min. The time is Python
# and clang under TCG.
# What the host can do for the guest it does first: vmlinux.h, the
# precompiled pybcc_bcc.h and the dialect's memos per guest kernel
# (bcc_tools.prepare_cache, ~20 s here; without them the guest's warm-up took
# more than 8 min, with vmlinux.h and the PCH alone 98 s), and the caches are
# kept, so a rerun skips every compile. Each tool's line is written as it
# finishes, so a run stopped at its limit still leaves a partial column, and
# a kernel's run starts with the tools the other kernels' tables lack.
# Guest limit: PYBCC_VMTEST_TIMEOUT (5400 s here). Do not edit this script
# or pybcc while a run is under way: bash reads the script as it goes, and
# the guest sees the host's files through virtiofs with caching (a change may
# or may not reach it).
#
# Environment: PYBCC_BCCTOOLS_OUT (default /var/tmp/pybcc-bcctools), and what
# scripts/vm-tests.sh reads. Exit status: that of scripts/vm-tests.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${PYBCC_BCCTOOLS_OUT:-/var/tmp/pybcc-bcctools}
mkdir -p "$OUT"
host=$OUT/host.txt
if [ ! -s "$host" ] || [ "${PYBCC_BCCTOOLS_RERUN_HOST:-0}" = 1 ]; then
    PYBCC_BCCTOOLS_TABLE=$host python3 -m pytest tests/test_bcc_tools.py -m bcctools -q -p no:cacheprovider
fi
only=$(awk '$2 == "refuses" { print $1 }' "$host" | tr '\n' ' ')
# PYBCC_BCCTOOLS_VM_TOOLS="a b": rerun only these in the VM, keeping the
# other tools' rows of the kernel's table
keep=0
[ -n "${PYBCC_BCCTOOLS_VM_TOOLS:-}" ] && { only=$PYBCC_BCCTOOLS_VM_TOOLS; keep=1; }
echo "vm-bcctools: in the VM: $only"
# each kernel's run rewrites its own table (vm-RELEASE.txt); the others stay
# A pybcc cache per guest kernel ($OUT/cache-RELEASE, shared into the guest),
# with vmlinux.h, the precompiled pybcc_bcc.h and the dialect's memos made
# here from the kernel's BTF (minutes each under TCG): for each kernel the VM
# runner has unpacked before (vmcache/vmlinux-RELEASE-*); a kernel never
# booted yet makes its own in the guest. The cache is content-addressed and
# kept between runs (a rerun skips the compiles); PYBCC_BCCTOOLS_COLD=1
# starts from empty ones.
t0=$(date +%s)
vmcache=${VMTEST_CACHE:-${PYBCC_VMTEST_CACHE:-/var/cache/pybcc-vmtest}/vmcache}
[ "${PYBCC_BCCTOOLS_COLD:-0}" = 1 ] && rm -rf "$OUT"/cache-*
declare -A done_rel=()
for elf in $(ls -t "$vmcache"/vmlinux-* 2>/dev/null); do
    rel=$(basename "$elf" | sed -E 's/^vmlinux-//; s/-[0-9]+-[0-9]+$//')
    [ -n "${done_rel[$rel]:-}" ] && continue     # the newest image of a release
    done_rel[$rel]=1
    python3 tests/bcc_tools.py --prepare-cache "$OUT/cache-$rel" "$elf"
done
echo "vm-bcctools: guest caches prepared in $(( $(date +%s) - t0 )) s"
t0=$(date +%s)
PYBCC_BCCTOOLS_ONLY=$only PYBCC_BCCTOOLS_KEEP=$keep PYBCC_BCCTOOLS_TABLE="$OUT/vm-{release}.txt" PYBCC_BCCTOOLS_CACHE="$OUT/cache-{release}" \
PYBCC_BCCTOOLS_KCONFIG="${PYBCC_VMTEST_CACHE:-/var/cache/pybcc-vmtest}/{release}/boot/config-{release}" \
VMTEST_MEM=${VMTEST_MEM:-4G} PYBCC_VMTEST_TIMEOUT=${PYBCC_VMTEST_TIMEOUT:-5400} PYBCC_VMTEST_MARK=bcctools VMTEST_RWDIRS="${VMTEST_RWDIRS:-} $OUT" \
VMTEST_ENV="${VMTEST_ENV:-} PYBCC_BCCTOOLS_ONLY PYBCC_BCCTOOLS_KEEP PYBCC_BCCTOOLS_TABLE PYBCC_BCCTOOLS_CACHE PYBCC_BCCTOOLS_KCONFIG" \
PYBCC_VMTEST_KERNELS=${PYBCC_VMTEST_KERNELS:-linux-image-amd64 linux-image-6.12-amd64} \
    bash scripts/vm-tests.sh tests/test_bcc_tools.py
rc=$?
echo "vm-bcctools: VM runs took $(( $(date +%s) - t0 )) s"
shopt -s nullglob
python3 tests/bcc_tools.py --markdown "$host" "$OUT"/vm-*.txt >docs/BCC_FIDELITY.md
echo "vm-bcctools: wrote docs/BCC_FIDELITY.md"
exit $rc
