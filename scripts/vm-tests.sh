#!/usr/bin/env bash
# scripts/vm-tests.sh [PYTEST PATHS/ARGS...]
#
# Run pybcc's `vm`-marked tests (kprobes, fentry: what the host kernel lacks)
# inside QEMU on stock Debian kernels, one boot per kernel. The guest sees the
# host's root file system read-only over 9p (writes go to a tmpfs overlay), so
# it uses the same python, pytest and `pip install -e .` of this repo.
#
#   sudo scripts/vm-tests.sh                          # all vm tests, both kernels
#   sudo scripts/vm-tests.sh tests/test_vm_smoke.py   # only these paths
#
# Environment:
#   PYBCC_VMTEST_KERNELS  Debian meta packages (default: "linux-image-amd64
#                         linux-image-6.12-amd64 bullseye:linux-image-amd64" =
#                         6.1, 6.12 and Debian 11's 5.10). SUITE:PACKAGE comes
#                         from that Debian suite through a private apt sources
#                         list and state under the cache dir (the host's apt
#                         configuration is not changed).
#   PYBCC_VMTEST_CACHE    where kernels and initramfs are kept
#                         (default /var/cache/pybcc-vmtest; reused across runs)
#   PYBCC_VMTEST_TIMEOUT  seconds per kernel before QEMU is killed (default 1800; 2700
#                         when kernels boot at once)
#   PYBCC_VMTEST_JOBS     kernels booted at once (default: the host's CPU count);
#                         each kernel's output is printed whole when it ends
#   PYBCC_VMTEST_PRESELECT  1 (default): with no arguments, the guest collects only
#                         the test files that hold vm tests; 0: all of tests/
#   PYBCC_VMTEST_PYTEST_OPTS  extra pytest options in the guest (default
#                         "-p no:hypothesispytest -p no:benchmark": slow to load)
#   PYBCC_VMTEST_MARK     pytest marker the guest selects (default vm;
#                         scripts/vm-bcctools.sh uses bcctools)
#   PYBCC_VMTEST_LSM      1 (default): boot with lsm=CONFIG_LSM plus bpf when the
#                         kernel has CONFIG_BPF_LSM=y (BPF LSM tests); 0: don't
#   VMTEST_FS             virtiofs (default when a virtiofsd is installed) or 9p
#   VMTEST_*              passed on to scripts/vmtest/vmtest.sh (VMTEST_MEM,
#                         VMTEST_CPUS, VMTEST_ACCEL, VMTEST_VERBOSE, ...)
#
# Exit status: 0 if every kernel's run passed or selected no tests (pytest 5,
# reported as such); 1 if any run failed; 2 if the kernels cannot be set up.
# See docs/VMTEST.md.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
HERE=$REPO/scripts/vmtest

KERNELS=${PYBCC_VMTEST_KERNELS:-linux-image-amd64 linux-image-6.12-amd64 bullseye:linux-image-amd64}
CACHE=${PYBCC_VMTEST_CACHE:-/var/cache/pybcc-vmtest}
export VMTEST_CACHE=${VMTEST_CACHE:-$CACHE/vmcache}
# How many guests boot at once. Each TCG guest runs its tests mostly on one
# host CPU, so on a machine with two or more CPUs two kernels at once take
# less than the two one after the other; sharing the CPUs, each may take
# longer than alone: hence the longer timeout.
JOBS=${PYBCC_VMTEST_JOBS:-$(nproc)}
export VMTEST_TIMEOUT=${VMTEST_TIMEOUT:-${PYBCC_VMTEST_TIMEOUT:-$([ "$JOBS" -gt 1 ] && echo 2700 || echo 1800)}}
# Inside the VM a missing kprobe/fentry is a failure, not a skip.
export PYBCC_VMTEST=1
# Host root over virtiofs when a virtiofsd is installed (Debian 12's qemu ships
# /usr/lib/qemu/virtiofsd): python start-up in the guest is ~1.5x faster than
# over 9p. A VM that fails to come up over virtiofs is retried over 9p.
if [ -z "${VMTEST_FS:-}" ]; then
    VMTEST_FS=9p
    for c in /usr/libexec/virtiofsd /usr/lib/qemu/virtiofsd; do [ -x "$c" ] && VMTEST_FS=virtiofs; done
fi
export VMTEST_FS
export VMTEST_ENV="${VMTEST_ENV:-} PYBCC_VMTEST PYBCC_CACHE_DIR XDG_CACHE_HOME"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }

[ "$(id -u)" = 0 ] || { echo "vm-tests: must run as root (apt, qemu, bpf in the guest)" >&2; exit 2; }

# --- kernels (downloaded and unpacked once; idempotent) -----------------------
# private_apt SUITE: an APT_CONFIG file whose sources list, package lists and
# download cache live under $CACHE/apt-SUITE, for kernels from another Debian
# release (bullseye's 5.10); refreshed once a day.
private_apt() {
    local suite=$1 d=$CACHE/apt-$1
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/sources.list.d"
    printf '%s\n' \
        "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
        "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security $suite-security main" \
        >"$d/sources.list"
    printf '%s\n' "Dir::Etc::SourceList \"$d/sources.list\";" \
        "Dir::Etc::SourceParts \"$d/sources.list.d\";" "Dir::State::Lists \"$d/lists\";" \
        "Dir::State::status \"/dev/null\";" "Dir::Cache \"$d/cache\";" >"$d/apt.conf"
    if [ -z "$(find "$d/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null)" ]; then
        APT_CONFIG=$d/apt.conf apt-get -q -o Acquire::Retries=3 update >&2 || return 1
    fi
    echo "$d/apt.conf"
}

t0=$(now)
host_kernels=() setup_out="" setup_rc=0
for k in $KERNELS; do case $k in *:*) ;; *) host_kernels+=("$k") ;; esac; done
# The host's own kernels first: this also installs qemu and friends with the
# host's apt (never through a private one). With only SUITE:PACKAGE kernels
# asked for, it still runs (for the tools) but its kernel is not booted.
if [ ${#host_kernels[@]} -gt 0 ]; then
    setup_out=$(bash "$HERE/vmtest-setup.sh" "$CACHE" "${host_kernels[@]}" 2>&1) || setup_rc=$?
else
    out=$(bash "$HERE/vmtest-setup.sh" "$CACHE" 2>&1) || { setup_rc=$?; setup_out=$out; }
fi
for k in $KERNELS; do
    case $k in *:*) ;; *) continue ;; esac
    conf=$(private_apt "${k%%:*}") || { setup_rc=1; setup_out+=$'\n'"apt update for ${k%%:*} failed"; continue; }
    out=$(APT_CONFIG=$conf bash "$HERE/vmtest-setup.sh" "$CACHE" "${k#*:}" 2>&1) || setup_rc=$?
    setup_out+=$'\n'"$out"
done
images=$(printf '%s\n' "$setup_out" | grep '/boot/vmlinuz-' || true)
if [ $setup_rc -ne 0 ] || [ -z "$images" ]; then
    printf '%s\n' "$setup_out" >&2
    echo "vm-tests: kernel setup failed (rc=$setup_rc)" >&2
    exit 2
fi
echo "vm-tests: kernels ready in $(secs "$t0" "$(now)") s under $CACHE; host root over $VMTEST_FS"

# --- byte-compile on the host: python under TCG is ~20x slower, and the guest
# cannot keep what it compiles (its writes vanish with the tmpfs overlay) ----
t0=$(now)
paths=("${@:-tests}")
python3 -m compileall -q -j 0 pybcc tests >/dev/null 2>&1 || true
# Collecting on the host also writes pytest's assertion-rewritten .pyc of the
# test modules, which the guest then finds; and it tells which test files hold
# vm tests, so the guest imports only those (it still applies -m vm itself).
# A module that skips itself at import on the host (no kprobes) collects
# nothing here, hence also every file that mentions the marker.
collected=$(python3 -m pytest -m vm --collect-only -q -p no:cacheprovider "${paths[@]}" 2>/dev/null \
            | sed -n 's/::.*//p')
if [ "${PYBCC_VMTEST_PRESELECT:-1}" = 1 ] && [ $# -eq 0 ]; then
    mentioned=$(grep -rlE --include='test_*.py' --include='*_test.py' 'mark\.vm\b' tests 2>/dev/null)
    sel=$(printf '%s\n' $collected $mentioned | sort -u | grep . || true)
    [ -n "$sel" ] && mapfile -t paths <<<"$sel"
fi
echo "vm-tests: host prep (byte-compile, collect) $(secs "$t0" "$(now)") s; guest runs: ${paths[*]}"

# --- one boot per kernel --------------------------------------------------------
# Plugins that cost seconds at start-up under TCG and that vm tests do not use
# (hypothesis still works without its pytest plugin).
OPTS=${PYBCC_VMTEST_PYTEST_OPTS--p no:hypothesispytest -p no:benchmark}
cmd="python3 -m pytest -m ${PYBCC_VMTEST_MARK:-vm} -q -ra -p no:cacheprovider $OPTS"
for a in "${paths[@]}"; do cmd+=" $(printf '%q' "$a")"; done
cmd="echo \"vm-tests: guest \$(uname -r), python \$(command -v python3)\"; $cmd"
# ... and which LSMs are active (BPF LSM programs need "bpf" among them).
cmd="mount -t securityfs securityfs /sys/kernel/security 2>/dev/null; echo \"vm-tests: guest LSMs \$(cat /sys/kernel/security/lsm 2>/dev/null)\"; $cmd"

# each kernel's output, when kernels boot at once
LOGS=$(mktemp -d /tmp/vm-tests-logs.XXXXXX)
trap 'rm -rf "$LOGS"' EXIT

# BPF LSM: a kernel built with CONFIG_BPF_LSM=y runs BPF LSM programs only when
# "bpf" is in its active LSM list, i.e. in lsm= or, without lsm=, in CONFIG_LSM.
# Boot with lsm= set explicitly to CONFIG_LSM plus bpf (Debian's 6.1 and 6.12
# already list bpf, so for them this changes nothing but makes it visible in
# /proc/cmdline). An lsm= in VMTEST_APPEND or PYBCC_VMTEST_LSM=0 leaves it alone.
kernel_append() {   # IMAGE RELEASE -> " lsm=..." or nothing
    local cfg lsm
    [ "${PYBCC_VMTEST_LSM:-1}" = 1 ] || return 0
    case " ${VMTEST_APPEND:-} " in *" lsm="*) return 0 ;; esac
    cfg=$(dirname "$1")/config-$2
    [ -r "$cfg" ] && grep -qx 'CONFIG_BPF_LSM=y' "$cfg" || return 0
    lsm=$(sed -n 's/^CONFIG_LSM="\(.*\)"$/\1/p' "$cfg")
    case ",$lsm," in *,bpf,*) ;; *) lsm=${lsm:+$lsm,}bpf ;; esac
    printf ' lsm=%s' "$lsm"
}

# boot_kernel IMAGE: one boot of one kernel; prints its output and, last, its
# summary line; returns 1 when it failed.
boot_kernel() {
    local img=$1 rel=${1##*/vmlinuz-} t0 append rc dt verdict
    echo
    echo "=== vm-tests: kernel $rel ==="
    t0=$(now)
    append=$(kernel_append "$img" "$rel")
    [ -n "$append" ] && echo "vm-tests: kernel command line +$append"
    VMTEST_APPEND="${VMTEST_APPEND:-}$append" bash "$HERE/vmtest.sh" "$img" "$cmd"
    rc=$?
    if [ $rc = 125 ] && [ "$VMTEST_FS" = virtiofs ] && \
       [ "$(awk -v a="$t0" -v b="$(now)" 'BEGIN{print (b-a < 120)}')" = 1 ]; then
        echo "vm-tests: the VM did not come up over virtiofs; retrying over 9p"
        VMTEST_APPEND="${VMTEST_APPEND:-}$append" VMTEST_FS=9p bash "$HERE/vmtest.sh" "$img" "$cmd"
        rc=$?
    fi
    dt=$(secs "$t0" "$(now)")
    case $rc in
        0)   verdict="passed" ;;
        5)   verdict="NO TESTS SELECTED (pytest exit 5; counted as success)" ;;
        125) verdict="VM FAILED (no exit status from the guest: crashed, or killed after ${VMTEST_TIMEOUT}s)" ;;
        *)   verdict="FAILED (pytest exit $rc)" ;;
    esac
    printf 'vm-tests: %-26s %7ss boot+run  %s\n' "$rel" "$dt" "$verdict"
    case $rc in 0|5) return 0 ;; *) return 1 ;; esac
}

summary=()
failed=0
if [ "$JOBS" -le 1 ]; then
    for img in $images; do
        boot_kernel "$img" | tee "$LOGS/one.log"
        [ "${PIPESTATUS[0]}" = 0 ] || failed=1
        summary+=("$(tail -n 1 "$LOGS/one.log" | sed 's/^vm-tests: //')")
    done
else
    # Several guests at once, each into its own log, printed whole when it
    # ends (interleaved lines of three pytest runs would be unreadable).
    declare -A pid_of=()
    running=0
    for img in $images; do
        if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
        rel=${img##*/vmlinuz-}
        echo "vm-tests: kernel $rel started ($(date -u +%T))"
        ( boot_kernel "$img" >"$LOGS/$rel.log" 2>&1; rc=$?
          cat "$LOGS/$rel.log"; exit $rc ) &
        pid_of[$rel]=$!
        running=$((running + 1))
    done
    for img in $images; do
        rel=${img##*/vmlinuz-}
        wait "${pid_of[$rel]}" || failed=1
        summary+=("$(tail -n 1 "$LOGS/$rel.log" | sed 's/^vm-tests: //')")
    done
fi

echo
echo "=== vm-tests summary ==="
printf '  %s\n' "${summary[@]}"
exit $failed
