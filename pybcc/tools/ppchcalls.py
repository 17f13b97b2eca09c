"""ppchcalls: summarize powerpc hypervisor call (hcall) counts and latencies
(bcc's flags and output). hcalls exist only on powerpc (pSeries/PAPR): on
other architectures the tool says so."""
import itertools
import os
import platform
import sys
import time

from ..output.table import write_json
from .lib.args import add_call_summary_args, add_ebpf, pid, tool_parser
from .lib.procutil import known_comm
from .lib.runtime import Tool, fail, run_tool, sleep_intervals, status

# PAPR hcall numbers and names ("number:name ...")
HCALLS = """
4:H_REMOVE 8:H_ENTER 12:H_READ 16:H_CLEAR_MOD 20:H_CLEAR_REF 24:H_PROTECT 28:H_GET_TCE
32:H_PUT_TCE 36:H_SET_SPRG0 40:H_SET_DABR 44:H_PAGE_INIT 48:H_SET_ASR 52:H_ASR_ON
56:H_ASR_OFF 60:H_LOGICAL_CI_LOAD 64:H_LOGICAL_CI_STORE 68:H_LOGICAL_CACHE_LOAD
72:H_LOGICAL_CACHE_STORE 76:H_LOGICAL_ICBI 80:H_LOGICAL_DCBF 84:H_GET_TERM_CHAR
88:H_PUT_TERM_CHAR 92:H_REAL_TO_LOGICAL 96:H_HYPERVISOR_DATA 100:H_EOI 104:H_CPPR 108:H_IPI
112:H_IPOLL 116:H_XIRR 120:H_MIGRATE_DMA 124:H_PERFMON 220:H_REGISTER_VPA 224:H_CEDE
228:H_CONFER 232:H_PROD 236:H_GET_PPP 240:H_SET_PPP 244:H_PURR 248:H_PIC 252:H_REG_CRQ
256:H_FREE_CRQ 260:H_VIO_SIGNAL 264:H_SEND_CRQ 272:H_COPY_RDMA 276:H_REGISTER_LOGICAL_LAN
280:H_FREE_LOGICAL_LAN 284:H_ADD_LOGICAL_LAN_BUFFER 288:H_SEND_LOGICAL_LAN 292:H_BULK_REMOVE
304:H_MULTICAST_CTRL 308:H_SET_XDABR 312:H_STUFF_TCE 316:H_PUT_TCE_INDIRECT
332:H_CHANGE_LOGICAL_LAN_MAC 336:H_VTERM_PARTNER_INFO 340:H_REGISTER_VTERM 344:H_FREE_VTERM
348:H_RESET_EVENTS 352:H_ALLOC_RESOURCE 356:H_FREE_RESOURCE 360:H_MODIFY_QP 364:H_QUERY_QP
368:H_REREGISTER_PMR 372:H_REGISTER_SMR 376:H_QUERY_MR 380:H_QUERY_MW 384:H_QUERY_HCA
388:H_QUERY_PORT 392:H_MODIFY_PORT 396:H_DEFINE_AQP1 400:H_GET_TRACE_BUFFER
404:H_DEFINE_AQP0 408:H_RESIZE_MR 412:H_ATTACH_MCQP 416:H_DETACH_MCQP 420:H_CREATE_RPT
424:H_REMOVE_RPT 428:H_REGISTER_RPAGES 432:H_DISABLE_AND_GET 436:H_ERROR_DATA
440:H_GET_HCA_INFO 444:H_GET_PERF_COUNT 448:H_MANAGE_TRACE 456:H_GET_CPU_CHARACTERISTICS
468:H_FREE_LOGICAL_LAN_BUFFER 472:H_POLL_PENDING 484:H_QUERY_INT_STATE
580:H_ILLAN_ATTRIBUTES 584:H_ADD_LOGICAL_LAN_BUFFERS 592:H_MODIFY_HEA_QP 596:H_QUERY_HEA_QP
600:H_QUERY_HEA 604:H_QUERY_HEA_PORT 608:H_MODIFY_HEA_PORT 612:H_REG_BCMC 616:H_DEREG_BCMC
620:H_REGISTER_HEA_RPAGES 624:H_DISABLE_AND_GET_HEA 628:H_GET_HEA_INFO
632:H_ALLOC_HEA_RESOURCE 644:H_ADD_CONN 648:H_DEL_CONN 664:H_JOIN 672:H_VASI_SIGNAL
676:H_VASI_STATE 680:H_VIOCTL 688:H_ENABLE_CRQ 696:H_GET_EM_PARMS 720:H_SET_MPP
724:H_GET_MPP 732:H_REG_SUB_CRQ 736:H_FREE_SUB_CRQ 740:H_SEND_SUB_CRQ
744:H_SEND_SUB_CRQ_INDIRECT 748:H_HOME_NODE_ASSOCIATIVITY 756:H_BEST_ENERGY 764:H_XIRR_X
768:H_RANDOM 772:H_COP 788:H_GET_MPP_X 796:H_SET_MODE 808:H_BLOCK_REMOVE 856:H_CLEAR_HPT
864:H_REQUEST_VMC 876:H_RESIZE_HPT_PREPARE 880:H_RESIZE_HPT_COMMIT 892:H_REGISTER_PROC_TBL
896:H_SIGNAL_SYS_RESET 904:H_ALLOCATE_VAS_WINDOW 908:H_MODIFY_VAS_WINDOW
912:H_DEALLOCATE_VAS_WINDOW 916:H_QUERY_VAS_WINDOW 920:H_QUERY_VAS_CAPABILITIES
924:H_QUERY_NX_CAPABILITIES 928:H_GET_NX_FAULT 936:H_INT_GET_SOURCE_INFO
940:H_INT_SET_SOURCE_CONFIG 944:H_INT_GET_SOURCE_CONFIG 948:H_INT_GET_QUEUE_INFO
952:H_INT_SET_QUEUE_CONFIG 956:H_INT_GET_QUEUE_CONFIG 960:H_INT_SET_OS_REPORTING_LINE
964:H_INT_GET_OS_REPORTING_LINE 968:H_INT_ESB 972:H_INT_SYNC 976:H_INT_RESET
996:H_SCM_READ_METADATA 1000:H_SCM_WRITE_METADATA 1004:H_SCM_BIND_MEM 1008:H_SCM_UNBIND_MEM
1012:H_SCM_QUERY_BLOCK_MEM_BINDING 1016:H_SCM_QUERY_LOGICAL_MEM_BINDING
1020:H_SCM_UNBIND_ALL 1024:H_SCM_HEALTH 1048:H_SCM_PERFORMANCE_STATS 1052:H_PKS_GET_CONFIG
1056:H_PKS_SET_PASSWORD 1060:H_PKS_GEN_PASSWORD 1068:H_PKS_WRITE_OBJECT 1072:H_PKS_GEN_KEY
1076:H_PKS_READ_OBJECT 1080:H_PKS_REMOVE_OBJECT 1084:H_PKS_CONFIRM_OBJECT_FLUSHED
1096:H_RPT_INVALIDATE 1100:H_SCM_FLUSH 1104:H_GET_ENERGY_SCALE_INFO 1108:H_PKS_SIGNED_UPDATE
1112:H_HTM 1116:H_WATCHDOG 1120:H_GUEST_GET_CAPABILITIES 1124:H_GUEST_SET_CAPABILITIES
1136:H_GUEST_CREATE 1140:H_GUEST_CREATE_VCPU 1144:H_GUEST_GET_STATE 1148:H_GUEST_SET_STATE
1152:H_GUEST_RUN_VCPU 1156:H_GUEST_COPY_MEMORY 1160:H_GUEST_DELETE 1168:H_PKS_WRAP_OBJECT
1172:H_PKS_UNWRAP_OBJECT 61184:H_SVM_PAGE_IN 61188:H_SVM_PAGE_OUT 61192:H_SVM_INIT_START
61196:H_SVM_INIT_DONE 61204:H_SVM_INIT_ABORT 61440:H_RTAS 61441:H_LOGICAL_MEMOP 61442:H_CAS
61443:H_UPDATE_DT 61560:H_GET_24X7_CATALOG_PAGE 61564:H_GET_24X7_DATA
61568:H_GET_PERF_COUNTER_INFO 63488:H_SET_PARTITION_TABLE 63492:H_ENTER_NESTED
63496:H_TLB_INVALIDATE 63500:H_COPY_TOFROM_GUEST
"""
TRACEPOINTS = ("/sys/kernel/tracing/events/powerpc/hcall_entry",
               "/sys/kernel/debug/tracing/events/powerpc/hcall_entry")


def hcall_table():
    return {int(n): name for n, name in (p.split(":") for p in HCALLS.split())}


def parse_args(argv):
    p = tool_parser("ppchcalls", "Summarize ppc hcall counts and latencies.")
    p.add_argument("-p", "--pid", type=pid, help="trace only this pid")
    p.add_argument("-t", "--tid", type=pid, help="trace only this tid")
    add_call_summary_args(p, "hcall")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per interval (pybcc extension)")
    add_ebpf(p, "ppchcalls")
    args = p.parse_args(argv)
    if args.duration and not args.interval:
        args.interval = args.duration
    return args


def list_hcalls():
    names = sorted(hcall_table().values())
    for group in itertools.zip_longest(*(iter(names),) * 4):
        print("   ".join("%-25s" % s for s in group if s is not None))


def print_stats(tool, args, table):
    data = sorted(((k, v) for k, v in tool.maps["ppc_data"].items() if k != 0xFFFFFFFF),
                  key=lambda kv: -kv[1].count)[:args.top]
    tool.maps["ppc_data"].clear()
    colname = "PID    COMM" if args.process else "PPC HCALL"

    def label(k):
        return "%-6d %-15s" % (k, known_comm(k)) if args.process else table.get(k, k)
    if args.json:
        rows = []
        for k, v in data:
            row = {"pid": k, "comm": known_comm(k)} if args.process else \
                {"hcall": table.get(k, str(k)), "nr": k}
            row["count"] = v.count
            if args.latency:
                row.update(min_ns=v.min, max_ns=v.max, avg_ns=v.total_ns // v.count)
            rows.append(row)
        write_json({"ts": round(time.time(), 6), "rows": rows})
        sys.stdout.flush()
        return
    print("[%s]" % time.strftime("%H:%M:%S"))
    if not args.latency:
        print("%-45s %8s" % (colname, "COUNT"))
        for k, v in data:
            print("%-45s %8d" % (label(k), v.count))
    else:
        unit, div = ("ms", 1e6) if args.milliseconds else ("us", 1e3)
        print("%-45s %8s %17s %17s %17s" % (colname, "COUNT", "MIN (%s)" % unit,
                                             "MAX (%s)" % unit, "AVG (%s)" % unit))
        fmt = "%-45s %8d " + ("%17.6f %17.6f %17.6f" if args.milliseconds else
                              "%17.3f  %17.3f  %17.3f")
        for k, v in data:
            print(fmt % (label(k), v.count, v.min / div, v.max / div, v.total_ns / v.count / div))
    print("")
    sys.stdout.flush()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    table = hcall_table()
    hcall_nr = -1
    if args.hcall is not None:
        hcall_nr = next((n for n, name in table.items() if name == args.hcall), -1)
        if hcall_nr == -1:
            fail("Error: hcall '%s' not found. Exiting." % args.hcall)
        print("hcall %s , hcall_nr =%d" % (args.hcall, hcall_nr))
    if args.list:
        list_hcalls()
        return 0
    if not platform.machine().startswith("ppc"):
        fail("ppchcalls: hypervisor calls (hcalls) exist only on powerpc; this machine is %s"
             % platform.machine())
    if not any(os.path.exists(t) for t in TRACEPOINTS):
        fail("ppchcalls: this kernel has no powerpc:hcall_entry tracepoint (not a pSeries "
             "guest): there are no hcalls to count")
    constants = {"targ_pid": args.pid or 0, "targ_tid": args.tid or 0, "targ_hcall": hcall_nr,
                 "failures_only": args.failures, "targ_errno": args.errno or 0,
                 "by_process": args.process}
    with Tool("ppchcalls", constants) as tool:
        tool.attach("hcall_entry")
        tool.attach("hcall_exit")
        if args.hcall is not None:
            status("Tracing %sppc hcall '%s'... Ctrl+C to quit." %
                   ("failed " if args.failures else "", args.hcall), args.json)
        else:
            status("Tracing %sppc hcalls, printing top %d... Ctrl+C to quit." %
                   ("failed " if args.failures else "", args.top), args.json)
        for _ in sleep_intervals(args.interval or 99999999, duration=args.duration):
            print_stats(tool, args, table)
        status("Detaching...", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
