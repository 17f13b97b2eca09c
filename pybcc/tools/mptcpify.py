"""mptcpify: make programs open MPTCP sockets where they ask for TCP (bcc's flags)."""
import json
import sys

from ..errors import BPFError
from ..kernel import features
from .lib.args import add_duration, add_ebpf, add_json, tool_parser
from .lib.runtime import Tool, fail, run_tool, sleep_intervals, status

EXAMPLES = """examples:
    ./mptcpify                 # every program's new TCP sockets are MPTCP
    ./mptcpify -t curl,iperf3  # only those of curl and iperf3 (by comm)

An fmod_ret program on update_socket_protocol() (kernel 6.6+, BPF trampolines,
CONFIG_MPTCP) changes IPPROTO_TCP (or 0) to IPPROTO_MPTCP for AF_INET/AF_INET6
stream sockets while the tool runs. Sockets made before it started stay TCP.
"""
TASK_COMM_LEN = 16


def parse_args(argv):
    p = tool_parser("mptcpify", "mptcpify try to force applications to use MPTCP instead of TCP",
                    EXAMPLES)
    p.add_argument("-t", "--targets", type=str,
                   help="use ',' for multi targets, eg: 'iperf3,rsync'. "
                        "Without '-t', it can works on all applications by default.")
    add_duration(p, "stop after this many seconds (pybcc extension)")
    add_json(p)
    add_ebpf(p, "mptcpify")
    args = p.parse_args(argv)
    args.names = [t.strip() for t in args.targets.split(",") if t.strip()] if args.targets else []
    if args.targets is not None and not args.names:
        p.error("-t needs at least one program name")
    return args


def why_not_here():
    """One line saying what this kernel lacks, or None."""
    if not features.has_fentry():
        return ("mptcpify: fmod_ret programs cannot be loaded on this kernel (BPF trampolines "
                "refused: the kernel lacks fentry/fmod_ret support)")
    if features.btf_id("update_socket_protocol", 12) is None:    # BTF FUNC
        return ("mptcpify: this kernel has no update_socket_protocol() hook "
                "(added in 6.6 with CONFIG_MPTCP)")
    return None


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = why_not_here()
    if problem:
        fail(problem)
    with Tool("mptcpify", {"all_programs": not args.names}) as tool:
        for name in args.names:
            key = name.encode()[:TASK_COMM_LEN - 1].ljust(TASK_COMM_LEN, b"\0")
            tool.maps["targets"][key] = 1
        try:
            tool.attach("mptcpify")
        except BPFError as e:
            fail(f"mptcpify: cannot attach to update_socket_protocol: {e}")
        if args.json:
            print(json.dumps({"forced": "targets" if args.names else "all",
                              "targets": args.names}), flush=True)
        status("MPTCP is been forced for  " + (str(args.names) if args.names
                                                else "all applications"), args.json)
        for _ in sleep_intervals(3600, duration=args.duration):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
