"""netqtop: packets per queue of a network interface, by size (bcc's output and flags)."""
import os
import sys
import time

from .lib.args import positive_float, tool_parser
from .lib.inet import parse_tool_args
from .lib.report import report_loop
from .lib.runtime import Tool, fail, run_tool, status

EXAMPLES = """examples:
    ./netqtop -n lo -i 1      # traffic on lo's queues, every second
    ./netqtop -n eth0 -t      # with BPS and PPS columns
"""

MAX_QUEUES = 1024
SIZES = ("[0, 64)", "[64, 512)", "[512, 2K)", "[2K, 16K)", "[16K, 64K)")


def parse_args(argv):
    p = tool_parser("netqtop", "Summarize packets per queue of a network interface", EXAMPLES)
    p.add_argument("-n", "--name", required=True, help="the network interface")
    p.add_argument("-i", "--interval", type=positive_float, default=1,
                   help="output interval, in seconds (default 1)")
    p.add_argument("-t", "--throughput", action="store_true", help="include BPS and PPS columns")
    return parse_tool_args(p, argv)


def queue_counts(name):
    """(tx queues, rx queues) of the interface, from /sys/class/net/NAME/queues."""
    path = f"/sys/class/net/{name}/queues"
    if len(name) > 15 or "/" in name or not os.path.isdir(path):
        fail(f"netqtop: no network interface {name!r} here")
    entries = os.listdir(path)
    tx, rx = (sum(e.startswith(p) for e in entries) for p in ("tx-", "rx-"))
    if max(tx, rx) > MAX_QUEUES:
        fail(f"netqtop: more than {MAX_QUEUES} queues are not supported")
    return tx, rx


def to_str(num):
    """bcc's short numbers: 1.02K, 2.5M."""
    if num > 1000000:
        return str(round(num / (1024 * 1024.0), 2)) + "M"
    if num > 1000:
        return str(round(num / 1024.0, 2)) + "K"
    return str(round(num, 2)) if isinstance(num, float) else str(num)


def queue_rows(queues, n):
    """[(qid, bytes, packets, [per size class])] for queues 0..n-1, and the total."""
    rows = [(q, queues[q].total_len, queues[q].num_pkt, list(queues[q].sizes)) if q in queues
            else (q, 0, 0, [0] * 5) for q in range(n)]
    total = (sum(r[1] for r in rows), sum(r[2] for r in rows),
             [sum(r[3][i] for r in rows) for i in range(5)])
    return rows, total


def table_text(rows, total, interval, throughput):
    head = ["QueueID", "avg_size", *SIZES] + (["BPS", "PPS"] if throughput else [])
    out = [" " + "".join("%-11s" % h for h in head) + "\n"]

    def tail(nbytes, packets):
        return ("%-11s%-11s" % (to_str(nbytes / interval), to_str(packets / interval))
                if throughput else "") + "\n"
    for q, nbytes, packets, sizes in rows:
        avg = nbytes / packets if packets else 0
        out.append(" %-11d%-11s" % (q, to_str(avg)) + "".join("%-11s" % to_str(s) for s in sizes)
                   + tail(nbytes, packets))
    nbytes, packets, sizes = total
    out.append(" Total      %-11s" % to_str(nbytes / packets if packets else 0)
               + "".join("%-11s" % to_str(s) for s in sizes) + tail(nbytes, packets))
    return "".join(out)


def table_json(rows, total, interval):
    def entry(nbytes, packets, sizes):
        return {"bytes": nbytes, "packets": packets, "avg_size": nbytes / packets if packets else 0,
                "sizes": dict(zip(SIZES, sizes)), "bps": nbytes / interval, "pps": packets / interval}
    return {"queues": [{"queue": q, **entry(*r)} for q, *r in rows], "total": entry(*total)}


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    counts = dict(zip(("tx_q", "rx_q"), queue_counts(args.name)))
    with Tool("netqtop", {"targ_name": args.name.encode().ljust(16, b"\0")}) as tool:
        tool.attach_first("start_xmit_btf", "start_xmit_raw")
        tool.attach_first("receive_skb_btf", "receive_skb_raw")
        # on stderr: bcc prints nothing before the first interval
        status(f"Tracing the queues of {args.name}... Hit Ctrl-C to end.", json=True)

        def report(as_json):
            tables = {m: queue_rows(dict(tool.maps[m].pop_all()), n) for m, n in counts.items()}
            if as_json:
                return {"device": args.name,
                        **{m[:2]: table_json(*t, args.interval) for m, t in tables.items()}}
            return (time.asctime() + "\nTX\n"
                    + table_text(*tables["tx_q"], args.interval, args.throughput) + "\nRX\n"
                    + table_text(*tables["rx_q"], args.interval, args.throughput)
                    + "-" * (95 if args.throughput else 77) + "\n")
        report_loop(report, args.interval, duration=args.duration, json=args.json,
                    blank_line=False)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
