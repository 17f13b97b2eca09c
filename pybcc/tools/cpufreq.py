"""cpufreq: sample CPU frequency system-wide and by process (libbpf-tools'
flags and output)."""
import os
import sys

from ..kernel.uapi import PERF_COUNT_SW_CPU_CLOCK, PERF_TYPE_SOFTWARE
from ..output.histogram import linear_buckets, stars
from ..output.table import write_json
from .lib.args import add_ebpf, positive_int, tool_parser
from .lib.runtime import Tool, fail, run_tool, sleep_intervals, status

EXAMPLES = """examples:
    cpufreq         # sample CPU freq at 99HZ (default)
    cpufreq -d 5    # sample for 5 seconds only
    cpufreq -c CG   # Trace process under cgroupsPath CG
    cpufreq -f 199  # sample CPU freq at 199HZ
"""

STEP_MHZ = 200
MAX_SLOTS = 26          # 0 to 5000 MHz
CPUFREQ = "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_cur_freq"


def parse_args(argv):
    p = tool_parser("cpufreq", "Sampling CPU freq system-wide & by process. Ctrl-C to end.",
                    EXAMPLES)
    p.add_argument("-d", "--duration", type=positive_int, help="Duration to sample in seconds")
    p.add_argument("-f", "--frequency", type=positive_int, default=99,
                   help="Sample with a certain frequency")
    p.add_argument("-c", "--cgroup", metavar="/sys/fs/cgroup/unified",
                   help="Trace process in cgroup path")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="Verbose debug output (which mechanisms attached)")
    p.add_argument("--json", action="store_true",
                   help="print the histograms as one JSON object (pybcc extension)")
    add_ebpf(p, "cpufreq")
    return p.parse_args(argv)


def current_mhz():
    """{cpu: MHz} from the cpufreq driver's sysfs files; exits in one line
    when the machine has no cpufreq driver."""
    out = {}
    for cpu in range(os.cpu_count() or 1):
        try:
            with open(CPUFREQ % cpu) as f:
                out[cpu] = int(f.read()) // 1000
        except FileNotFoundError:
            if cpu == 0:
                fail("cpufreq: this machine has no CPU frequency scaling driver (no %s): "
                     "there is no frequency to sample" % (CPUFREQ % cpu))
        except (OSError, ValueError):
            pass
    return out


def hist_text(slots, label):
    """libbpf-tools' linear histogram: non-zero rows, each row's MHz."""
    used = [i for i, v in enumerate(slots) if v]
    if not used:
        return ""
    top = max(slots)
    lines = ["     %-13s : count     distribution" % label]
    for i in range(used[0], used[-1] + 1):
        if slots[i]:
            lines.append("        %-10d : %-8d |%s|" % (i * STEP_MHZ, slots[i], stars(slots[i], top, 40)))
    return "\n".join(lines) + "\n"


def histograms(tool):
    """({comm: slots}, system-wide slots) from the maps."""
    per_comm = {}
    for k, v in tool.maps["hists"].items():
        comm = k.comm.decode(errors="replace") if isinstance(k.comm, bytes) else k.comm
        per_comm.setdefault(comm, [0] * MAX_SLOTS)[k.slot] += v
    return per_comm, [tool.maps["syswide"][i] for i in range(MAX_SLOTS)]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.verbose:
        os.environ["PYBCC_DEBUG"] = "1"
    start = current_mhz()
    cg_fd = None
    if args.cgroup:
        try:
            cg_fd = os.open(args.cgroup, os.O_RDONLY)
        except OSError as e:
            fail("cpufreq: cannot open cgroup %s: %s" % (args.cgroup, e.strerror))
    with Tool("cpufreq", {"filter_cg": cg_fd is not None}) as tool:
        if cg_fd is not None:
            tool.maps["cgroup_map"][0] = cg_fd
            os.close(cg_fd)
        for cpu, mhz in start.items():
            tool.maps["freqs_mhz"][cpu] = mhz
        tool.attach_first("frequency_btf", "frequency_raw")
        tool.attach("do_sample", ev_type=PERF_TYPE_SOFTWARE, ev_config=PERF_COUNT_SW_CPU_CLOCK,
                    sample_freq=args.frequency)
        status("Sampling CPU freq system-wide & by process. Ctrl-C to end.", args.json)
        for _ in sleep_intervals(args.duration or 99999999, 1):
            pass
        per_comm, syswide = histograms(tool)
    if args.json:
        write_json({"unit": "MHz", "syswide": linear_buckets(syswide, STEP_MHZ),
                    "comms": {c: linear_buckets(s, STEP_MHZ) for c, s in sorted(per_comm.items())}})
        return 0
    print()
    for comm, slots in per_comm.items():
        print(hist_text(slots, comm))
    print()
    sys.stdout.write(hist_text(syswide, "syswide"))
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
