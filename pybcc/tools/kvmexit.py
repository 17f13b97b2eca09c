"""kvmexit: display KVM exit reasons and their counts (bcc's flags and
output), from the kvm:kvm_exit tracepoint where KVM is present.

The reasons' names are the kernel's own, read from the tracepoint's format
(VMX names on Intel, SVM names upper-cased on AMD)."""
import argparse
import os
import re
import sys

from ..output.table import write_json
from .lib.args import add_ebpf, pid, positive_int, tool_parser
from .lib.runtime import Tool, fail, run_tool, sleep, status, take_interrupts

EXAMPLES = """examples:
    ./kvmexit                              # Display kvm_exit_reason and its statistics in real-time until Ctrl-C
    ./kvmexit 5                            # Display in real-time after sleeping 5s
    ./kvmexit -p 3195281                   # Collpase all tids for pid 3195281 with exit reasons sorted in descending order
    ./kvmexit -p 3195281 20                # Collpase all tids for pid 3195281 with exit reasons sorted in descending order, and display after sleeping 20s
    ./kvmexit -p 3195281 -v 0              # Display only vcpu0 for pid 3195281, descending sort by default
    ./kvmexit -p 3195281 -a                # Display all tids for pid 3195281
    ./kvmexit -t 395490                    # Display only for tid 395490 with exit reasons sorted in descending order
    ./kvmexit -t 395490 20                 # Display only for tid 395490 with exit reasons sorted in descending order after sleeping 20s
    ./kvmexit -T '395490,395491'           # Display for a union like {395490, 395491}
"""

FORMAT = "/sys/kernel/tracing/events/kvm/kvm_exit/format"
MAX_TIDS = 8
VENDOR_MODULES = ("kvm_intel", "kvm_amd")


def tid_list(text):
    tids = [pid(v) for v in text.split(",")]
    if len(tids) > MAX_TIDS:
        raise argparse.ArgumentTypeError("at most %d tids" % MAX_TIDS)
    return tids


def parse_args(argv):
    p = tool_parser("kvmexit", "Display kvm_exit_reason and its statistics at a timed interval",
                    EXAMPLES)
    p.add_argument("duration", nargs="?", default=99999999, type=positive_int,
                   help="show delta for next several seconds")
    p.add_argument("-p", "--pid", type=pid, help="trace this PID only")
    ex = p.add_mutually_exclusive_group()
    ex.add_argument("-t", "--tid", type=pid, help="trace this TID only")
    ex.add_argument("-T", "--tids", type=tid_list,
                    help="trace a comma separated series of tids with no space in between")
    ex.add_argument("-v", "--vcpu", type=int, help="trace this vcpu only")
    ex.add_argument("-a", "--alltids", action="store_true", help="trace all tids for this pid")
    p.add_argument("-m", "--max-parallelism", type=positive_int, default=64,
                   help="limit post processing parallelism to the given thread count "
                        "(accepted for bcc's scripts; pybcc's post processing is one map read)")
    p.add_argument("-d", "--debug", action="store_true",
                   help="enable debug facilities (print which mechanism attached)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per row (pybcc extension)")
    add_ebpf(p, "kvmexit")
    args = p.parse_args(argv)
    if (args.vcpu is not None or args.alltids) and args.pid is None:
        p.error("-v and -a need -p PID")
    return args


def reason_names():
    """{exit reason: name} for this CPU's vendor, from the tracepoint's format."""
    vendor = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("vendor_id"):
                vendor = line.split(":")[1].strip()
                break
    try:
        fmt = open(FORMAT).read()
    except OSError:
        return {}
    tables = re.findall(r"__print_symbolic\(REC->exit_reason[^,]*,((?:\s*\{[^}]*\},?)*)", fmt)
    if not tables:
        return {}
    # the format lists VMX's table first (isa == 1), then SVM's
    table = tables[0] if vendor == "GenuineIntel" or len(tables) == 1 else tables[1]
    out = {}
    for num, name in re.findall(r"\{\s*([-0-9a-fx+ ]+?)\s*,\s*\"([^\"]*)\"\s*\}", table):
        try:
            value = sum(int(part, 0) for part in num.split("+"))    # "0x040 + 13"
        except ValueError:
            continue
        out[value & 0xffffffff] = name if vendor == "GenuineIntel" else name.upper()
    return out


def vcpu_tid(tgid, vcpu):
    """The thread of vCPU ``vcpu`` (qemu names them "CPU N/KVM")."""
    want = "CPU %d" % vcpu
    for tid in os.listdir("/proc/%d/task" % tgid):
        try:
            if want in open("/proc/%d/task/%s/comm" % (tgid, tid)).read():
                return int(tid)
        except OSError:
            pass
    fail("kvmexit: there's no v%s for PID %d." % (want, tgid))


def check_kvm():
    if not os.path.exists("/dev/kvm") or not os.path.exists(FORMAT):
        fail("kvmexit: no KVM on this machine (/dev/kvm or the kvm:kvm_exit tracepoint "
             "missing): there are no exits to count")
    if not any(os.path.exists("/sys/module/" + m) for m in VENDOR_MODULES):
        others = [m for m in os.listdir("/sys/module") if m.startswith("kvm_")]
        print("kvmexit: KVM here is %s, not kvm_intel/kvm_amd: its guests' exits may not "
              "show in kvm:kvm_exit" % (", ".join(others) or "without a vendor module"),
              file=sys.stderr)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    check_kvm()
    if args.debug:
        os.environ["PYBCC_DEBUG"] = "1"
    tids, header = [], "PID      TID      "
    if args.tid is not None:
        tids, context, header = [args.tid], "TID %s" % args.tid, ""
    elif args.tids is not None:
        tids, context, header = args.tids, "TIDS %s" % args.tids, "TIDS     "
    elif args.pid is not None:
        context, header = "PID %s" % args.pid, ""
        if args.vcpu is not None:
            args.tid = vcpu_tid(args.pid, args.vcpu)
            tids, context = [args.tid], "PID %s VCPU %s" % (args.pid, args.vcpu)
        elif args.alltids:
            context, header = "PID %s and its all threads" % args.pid, "TID      "
    else:
        context = "all threads"
    constants = {"targ_tgid": args.pid or 0,
                 "targ_tids": b"".join(t.to_bytes(4, "little") for t in tids)}
    names = reason_names()
    with Tool("kvmexit", constants) as tool:
        tool.attach("kvm_exit")
        msg = "Display kvm exit reasons and statistics for %s" % context
        status(msg + (" after sleeping %d secs." % args.duration if args.duration < 99999999
                      else "... Hit Ctrl-C to end."), args.json)
        try:
            take_interrupts()
            sleep(args.duration)
        except KeyboardInterrupt:
            if not args.json:
                print()
        counts = [(k.tgid, k.tid, k.reason, v) for k, v in tool.maps["counts"].items()]
    report(counts, names, args, header)
    return 0


def report(counts, names, args, header):
    def name(reason):
        return names.get(reason, str(reason))
    if args.tid is not None or (args.pid is not None and not args.alltids and args.tids is None):
        # one thread, or a process collapsed: reasons by count, most first
        totals = {}
        for _, _, reason, n in counts:
            totals[reason] = totals.get(reason, 0) + n
        rows = [(None, None, r, n) for r, n in sorted(totals.items(), key=lambda x: -x[1])]
    else:
        rows = sorted(counts)
    if args.json:
        for tgid, tid, reason, n in rows:
            row = {"reason": name(reason), "code": reason, "count": n}
            if tgid is not None:
                row.update(pid=tgid, tid=tid)
            write_json(row)
        return
    print("%s%-35s %s" % (header, "KVM_EXIT_REASON", "COUNT"))
    for tgid, tid, reason, n in rows:
        if tgid is None:
            print("%-35s %-8u" % (name(reason), n))
        elif header.startswith("PID"):
            print("%-8u %-8u %-35s %-8u" % (tgid, tid, name(reason), n))
        else:
            print("%-8u %-35s %-8u" % (tid, name(reason), n))


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
