"""trace: print a message when functions or tracepoints fire, with argument
values and filters written in C (bcc's probe syntax, flags and output).

Each invocation generates C for its probes (see probespec); the compiler
caches objects by text, so repeating a command compiles nothing.
"""
import argparse
import json
import os
import re
import sys
import time
from operator import itemgetter

from ..errors import MapError
from ..output.table import Column, Table
from .lib.args import add_duration, pid, positive_int, regex, tool_parser, uid
from .lib.probespec import (
    GeneratedTool,
    Generator,
    SpecError,
    attach_probe,
    parse_trace_probe,
    string_size,
    user_target,
)
from .lib.runtime import fail, run_tool, status, stream_events
from .lib.stacks import BuildIdSymbols, StackPrinter, frames_json

EXAMPLES = """
EXAMPLES:

trace do_sys_open
        Trace the open syscall and print a default trace message when entered
trace kfree_skb+0x12
        Trace the kfree_skb kernel function after the instruction on the 0x12 offset
trace 'do_sys_open "%s", arg2@user'
        Trace the open syscall and print the filename being opened @user is
        added to arg2 in kprobes to ensure that char * should be copied from
        the userspace stack to the bpf stack. If not specified, previous
        behaviour is expected.

trace 'do_sys_open "%s", arg2@user' -n main
        Trace the open syscall and only print event that process names containing "main"
trace 'do_sys_open "%s", arg2@user' --uid 1001
        Trace the open syscall and only print event that processes with user ID 1001
trace 'do_sys_open "%s", arg2@user' -f config
        Trace the open syscall and print the filename being opened filtered by "config"
trace 'sys_read (arg3 > 20000) "read %d bytes", arg3'
        Trace the read syscall and print a message for reads >20000 bytes
trace 'r::do_sys_open "%llx", retval'
        Trace the return from the open syscall and print the return value
trace 'c:open (arg2 == 42) "%s %d", arg1, arg2'
        Trace the open() call from libc only if the flags (arg2) argument is 42
trace 'c:malloc "size = %d", arg1'
        Trace malloc calls and print the size being allocated
trace 'p:c:write (arg1 == 1) "writing %d bytes to STDOUT", arg3'
        Trace the write() call from libc to monitor writes to STDOUT
trace 'r::__kmalloc (retval == 0) "kmalloc failed!"'
        Trace returns from __kmalloc which returned a null pointer
trace 'r:c:malloc (retval) "allocated = %x", retval'
        Trace returns from malloc and print non-NULL allocated buffers
trace 't:block:block_rq_complete "sectors=%d", args->nr_sector'
        Trace the block_rq_complete kernel tracepoint and print # of tx sectors
trace 't:syscalls:sys_enter_openat "%s", args->filename'
        Trace openat() through its tracepoint (works without kprobes)
trace 'p::SyS_nanosleep(struct timespec *ts) "sleep for %lld ns", ts->tv_nsec'
        Trace the nanosleep syscall and print the sleep duration in ns
trace -c /sys/fs/cgroup/system.slice/workload.service '__x64_sys_nanosleep' '__x64_sys_clone'
        Trace nanosleep/clone syscall calls only under workload.service
        cgroup hierarchy.
trace -s /lib/x86_64-linux-gnu/libc.so.6,/bin/ping 'p:c:inet_pton' -U
        Trace inet_pton and name the user stack's frames from these files (by
        their build ids)
trace -p 1234 'u:/usr/bin/python3.11:function__entry "%s", arg2' 'u:/usr/bin/python3.11:line (0)'
        Print the Python functions that process 1234 calls (USDT probes, with
        their arguments as arg1, arg2, ...; CPython 3.11 fires function__entry
        only while its line probe is enabled, hence the second, silent probe)
"""

# printf conversions bcc's trace accepts, and the C type each one carries
C_TYPES = {"u": "unsigned int", "d": "int", "lu": "unsigned long", "ld": "long",
           "llu": "unsigned long long", "lld": "long long", "hu": "unsigned short",
           "hd": "short", "x": "unsigned int", "lx": "unsigned long", "llx": "unsigned long long",
           "c": "char", "K": "unsigned long long", "U": "unsigned long long"}
CONVERSION = re.compile(r"%(s|llu|lld|llx|lu|ld|lx|hu|hd|u|d|x|c|K|U)")


JSON_HELP = ("print one JSON object per event: the columns (time, cpu, pid, tid, comm, "
             "func, message) and with -K/-U the frames (innermost first, each {function, "
             "kernel, address}); with -A each distinct event once, with its count "
             "(pybcc extension)")


def parse_args(argv):
    p = tool_parser("trace", "Attach to functions and print trace messages.", EXAMPLES)
    p.add_argument("-b", "--buffer-pages", type=positive_int, default=64,
                   help="number of pages to use for perf_events ring buffer (default: %(default)d)")
    p.add_argument("-p", "--pid", type=pid, metavar="PID", dest="tgid",
                   help="id of the process to trace (optional)")
    p.add_argument("-L", "--tid", type=pid, metavar="TID", dest="pid",
                   help="id of the thread to trace (optional)")
    p.add_argument("--uid", type=uid, metavar="UID", dest="uid",
                   help="id of the user to trace (optional)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print resulting BPF program code before executing")
    p.add_argument("-Z", "--string-size", type=string_size, default=80,
                   help="maximum size to read from strings")
    p.add_argument("-S", "--include-self", action="store_true",
                   help="do not filter trace's own pid from the trace")
    p.add_argument("-M", "--max-events", type=positive_int,
                   help="number of events to print before quitting")
    p.add_argument("-t", "--timestamp", action="store_true",
                   help="print timestamp column (offset from trace start)")
    p.add_argument("-u", "--unix-timestamp", action="store_true",
                   help="print UNIX timestamp instead of offset from trace start, requires -t")
    p.add_argument("-T", "--time", action="store_true", help="print time column")
    p.add_argument("-C", "--print_cpu", action="store_true", help="print CPU id")
    p.add_argument("-c", "--cgroup-path", type=str, metavar="CGROUP_PATH", dest="cgroup_path",
                   help="cgroup path")
    p.add_argument("-n", "--name", type=regex,
                   help="only print process names containing this name")
    p.add_argument("-f", "--msg-filter", type=str, dest="msg_filter",
                   help="only print the msg of event containing this string")
    p.add_argument("-B", "--bin_cmp", action="store_true",
                   help="allow to use STRCMP with binary values")
    p.add_argument("-s", "--sym_file_list", type=str, metavar="SYM_FILE_LIST",
                   dest="sym_file_list",
                   help="comma separated list of symbol files to use for symbol resolution "
                        "(of -U stacks, recorded as build id and offset: they resolve after "
                        "the process is gone)")
    p.add_argument("-K", "--kernel-stack", action="store_true", help="output kernel stack trace")
    p.add_argument("-U", "--user-stack", action="store_true", help="output user stack trace")
    p.add_argument("-a", "--address", action="store_true", help="print virtual address in stacks")
    p.add_argument(metavar="probe", dest="probes", nargs="+",
                   help="probe specifier (see examples)")
    p.add_argument("-I", "--include", action="append", metavar="header",
                   help="additional header files to include in the BPF program "
                        "as either full path, or relative to current working directory, "
                        "or relative to default kernel header search path")
    p.add_argument("-A", "--aggregate", action="store_true", help="aggregate amount of each trace")
    p.add_argument("--ebpf", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    add_duration(p, "stop after this many seconds (pybcc extension)")
    args = p.parse_args(argv)
    if args.tgid and args.pid:
        p.error("only one of -p and -L may be specified")
    if args.aggregate and args.max_events is None:
        p.error("-M/--max-events should be specified with -A/--aggregate")
    if args.unix_timestamp and not args.timestamp:
        p.error("-u/--unix-timestamp requires -t")
    if args.cgroup_path is not None and not os.path.isdir(args.cgroup_path):
        p.error(f"-c {args.cgroup_path}: no such cgroup directory")
    args.build_ids = None
    if args.sym_file_list:
        try:
            args.build_ids = BuildIdSymbols(args.sym_file_list.split(","))
        except ValueError as e:
            p.error(f"-s: {e}")
    return args


class Probe:
    """One trace probe: its specifier, generated C, and event decoding."""

    def __init__(self, index, text, args):
        self.index = index
        self.tp = parse_trace_probe(text)
        self.spec = self.tp.spec
        self.args = args
        self.types = CONVERSION.findall(self.tp.fmt)
        if len(self.types) != len(self.tp.values):
            raise SpecError(f"error in probe '{text}': the format has {len(self.types)} "
                            f"conversions but {len(self.tp.values)} values were given")
        # bcc's Python format: integers as %d/%x, %K/%U as the symbol text
        fmt = re.sub(r"%(llu|lld|lu|ld|hu|hd|u|d)", "%d", self.tp.fmt)
        fmt = re.sub(r"%(llx|lx|x)", "%x", fmt)
        self.python_format = re.sub("%K|%U", "%s", fmt).encode().decode("unicode_escape")
        self.name = f"probe_{re.sub(r'[^A-Za-z0-9_]', '_', self.display)}_{index + 1}"
        self.record = None      # the event's decoder, from the loaded object's BTF
        # the values that are not printed as they come (strings, chars, symbols)
        self.converted = [(i, t) for i, t in enumerate(self.types) if t in "scKU"]

    @property
    def display(self):
        return self.spec.function

    @property
    def trivial(self):
        return self.python_format == ""

    def generate(self, gen):
        spec = self.spec
        prefer_user = spec.is_user or spec.tp_category == "syscalls"
        struct = f"{self.name}_data"
        decl = [f"struct {struct} {{",
                "    u32 probe; u32 tgid; u32 pid; u32 uid; u64 ts; u32 cpu;",
                "    s32 kstack; s32 ustack; char comm[16];"]
        for i, t in enumerate(self.types):
            decl.append(f"    char v{i}[{self.args.string_size}];" if t == "s"
                        else f"    {C_TYPES[t]} v{i};")
        decl.append("} __attribute__((packed));")
        gen.add("\n".join(decl) + f"\nDEFINE_SCRATCH(struct {struct}, {self.name}_buf);\n")

        filt = gen.rewrite(spec.filter, spec, prefer_user) if spec.filter.strip() else "1"
        body = gen.function_head(spec, self.name)
        body += ("    u64 __pid_tgid = bpf_get_current_pid_tgid();\n"
                 "    u32 __tgid = __pid_tgid >> 32, __pid = (u32)__pid_tgid;\n"
                 "    u32 __uid = (u32)bpf_get_current_uid_gid();\n"
                 "    if (!pybcc_wanted(__tgid, __pid, __uid))\n        return 0;\n")
        if gen.cgroup:
            body += "    if (bpf_current_task_under_cgroup(&__cgroup, 0) <= 0)\n        return 0;\n"
        body += gen.signature_locals(spec)
        body += f"    if (!({filt}))\n        return 0;\n"
        body += (f"    struct {struct} *__data = scratch(&{self.name}_buf);\n"
                 "    if (!__data)\n        return 0;\n"
                 f"    __data->probe = {self.index};\n"
                 "    __data->tgid = __tgid;\n    __data->pid = __pid;\n    __data->uid = __uid;\n"
                 "    __data->ts = bpf_ktime_get_ns();\n"
                 "    __data->cpu = bpf_get_smp_processor_id();\n"
                 "    bpf_get_current_comm(__data->comm, sizeof(__data->comm));\n"
                 "    __data->kstack = with_kstack ? bpf_get_stackid(ctx, &stacks, 0) : -1;\n"
                 "    __data->ustack = with_ustack ? "
                 "bpf_get_stackid(ctx, &USTACKS, BPF_F_USER_STACK) : -1;\n")
        for i, (t, value) in enumerate(zip(self.types, self.tp.values)):
            user = prefer_user or re.search(r"\barg[1-6]@user\b", value) is not None
            expr = gen.rewrite(value, spec, user)
            if t == "s":
                body += f"    __data->v{i}[0] = 0;\n" + gen.read_string(f"__data->v{i}", expr, user)
            else:
                body += f"    __data->v{i} = ({C_TYPES[t]})({expr});\n"
        body += "    emit_event(ctx, __data, sizeof(*__data));\n    return 0;\n}\n"
        gen.add(body)

    FIXED_FIELDS = 9        # probe .. comm: the values follow (see generate)

    def message(self, e):
        values = e[self.FIXED_FIELDS:]
        if self.converted:
            values = list(values)
            for i, t in self.converted:
                v = values[i]
                if t == "s":
                    v = v.decode("utf-8", "replace")
                elif t == "c":
                    v = chr(v & 0xff)
                elif t == "K":
                    from ..symbols import ksym
                    v = ksym(v, show_offset=True)
                else:   # U
                    from ..symbols import sym     # (the ELF reader: when %U is asked for)
                    v = sym(v, e.tgid, show_module=True, show_offset=True)
                values[i] = v
            values = tuple(values)
        try:
            return self.python_format % values
        except (TypeError, ValueError):
            return self.python_format + " " + " ".join(map(str, values))


COMMON_C = """
const volatile u32 targ_tgid = 0;
const volatile u32 targ_tid = 0;
const volatile u32 targ_uid = (u32)-1;
const volatile u32 self_tgid = 0;
const volatile bool with_kstack = false;
const volatile bool with_ustack = false;

STACK_TRACE_MAP(stacks, 1024);

static __always_inline bool pybcc_wanted(u32 tgid, u32 tid, u32 uid)
{
    if (targ_tid && tid != targ_tid)
        return false;
    if (targ_tgid && tgid != targ_tgid)
        return false;
    if (self_tgid && tgid == self_tgid)
        return false;
    if (targ_uid != (u32)-1 && uid != targ_uid)
        return false;
    return true;
}
"""

# -s: user stacks as (build id, file offset) frames, named from the given files
BUILD_ID_STACKS_C = """
struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __uint(max_entries, 1024);
    __uint(map_flags, BPF_F_STACK_BUILD_ID);
    __uint(key_size, sizeof(u32));
    __uint(value_size, 127 * sizeof(struct bpf_stack_build_id));
} ustacks SEC(".maps");
#define USTACKS ustacks
"""

CGROUP_C = """
struct {
    __uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u32);
} __cgroup SEC(".maps");
"""


def generate(probes, args):
    gen = Generator(args.string_size, args.include or (), bin_cmp=args.bin_cmp)
    gen.cgroup = args.cgroup_path is not None
    gen.add(COMMON_C)
    gen.add(BUILD_ID_STACKS_C if args.sym_file_list else "#define USTACKS stacks\n")
    if gen.cgroup:
        gen.add(CGROUP_C)
    for probe in probes:
        probe.generate(gen)
    return gen.text()


def stack_text(frames, stack_id, with_address):
    """bcc's stack under an event: frames 8 spaces in, or the failed id."""
    if stack_id < 0:
        return "        %d" % stack_id
    return "".join("        " + ("%16x " % f.address if with_address else "") + f.name + "\n"
                   for f in frames)


def columns(args, trivial):
    """bcc's columns over a row of values (see row_values)."""
    cols = []
    if args.timestamp:
        # the full "%.6f" text, cut to the column in text (as bcc), a number in JSON
        width = 17 if args.unix_timestamp else 8
        cols.append(Column("TIME", "%%-%d.%ds " % (width, width), itemgetter(len(cols)),
                           json=lambda row, i=len(cols): float(row[i])))
    elif args.time:
        cols.append(Column("TIME", "%-8s ", itemgetter(len(cols))))
    if args.print_cpu:
        cols.append(Column("CPU", "%-3s ", itemgetter(len(cols))))
    n = len(cols)
    return cols + [
        Column("PID", "%-7d ", itemgetter(n)),
        Column("TID", "%-7d ", itemgetter(n + 1)),
        Column("COMM", "%-15s ", itemgetter(n + 2)),
        Column("FUNC", "%-16s ", itemgetter(n + 3)),
        Column("" if trivial else "-", "%s", itemgetter(n + 4), key="message"),
    ]


def row_values(args, first_ts, first_ts_real):
    """f(probe, event, message) → the row's values, in the columns' order."""
    prefix = []
    if args.timestamp:
        def stamp(e):
            offset = (e.ts - first_ts) / 1e9
            return "%.6f" % (offset + first_ts_real if args.unix_timestamp else offset)
        prefix.append(stamp)
    elif args.time:
        prefix.append(lambda e: time.strftime("%H:%M:%S"))
    if args.print_cpu:
        prefix.append(lambda e: e.cpu)

    def values(probe, e, msg):
        row = (e.tgid, e.pid, e.comm.decode("utf-8", "replace"), probe.display, msg)
        return tuple(get(e) for get in prefix) + row if prefix else row
    return values


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        probes = [Probe(i, text, args) for i, text in enumerate(args.probes)]
        for probe in probes:
            if probe.spec.is_user and probe.spec.probe_type != "u":
                user_target(probe.spec, args.tgid or -1)
        text = generate(probes, args)
    except SpecError as e:
        fail(str(e), e.exit_code)
    if args.verbose or args.ebpf:
        print(text)
        if args.ebpf:
            return 0

    constants = {"with_kstack": args.kernel_stack, "with_ustack": args.user_stack}
    if args.tgid:
        constants["targ_tgid"] = args.tgid
    if args.pid:
        constants["targ_tid"] = args.pid
    if args.uid is not None:
        constants["targ_uid"] = args.uid
    if not args.include_self:
        constants["self_tgid"] = os.getpid()

    table = Table(columns(args, all(p.trivial for p in probes)), json=args.json)
    line_format = "".join(c.fmt for c in table.columns) + "\n"     # text: one % per event
    values = row_values(args, time.monotonic_ns(), time.time())
    name = (args.name or "").encode()
    state = {"count": 0, "done": False}
    aggregate = {}

    with GeneratedTool(text, "trace", constants, events=True) as tool:
        if args.cgroup_path is not None:
            fd = os.open(args.cgroup_path, os.O_RDONLY)
            try:
                tool.maps["__cgroup"][0] = fd
            except MapError as e:
                fail(f"trace: -c {args.cgroup_path}: not a cgroup v2 directory ({e})")
            finally:
                os.close(fd)
        try:
            for probe in probes:
                attach_probe(tool, probe.name, probe.spec, args.tgid or -1)
                probe.record = tool.record(f"{probe.name}_data")
        except SpecError as e:
            fail(str(e), e.exit_code)
        printer = StackPrinter(tool.maps["stacks"], user=args.user_stack,
                               kernel=args.kernel_stack, offsets=True, modules=True,
                               user_map=tool.maps["ustacks"] if args.build_ids else None,
                               build_ids=args.build_ids)
        if args.build_ids:
            status("Note: Kernel bpf will report stack map with ip/build_id", args.json)

        def event_text(e, row):
            out = line_format % row
            if args.kernel_stack:
                out += stack_text(printer.kernel_frames(e.kstack) if e.kstack >= 0 else [],
                                  e.kstack, args.address)
            if args.user_stack:
                out += stack_text(printer.user_frames(e.ustack, e.tgid) if e.ustack >= 0 else [],
                                  e.ustack, args.address)
            return out

        def event_json(e, row):
            out = table.as_dict(row)
            if args.kernel_stack or args.user_stack:
                stack = printer.stack(e.comm, e.tgid, e.ustack, e.kstack, 1)
                out.update(frames_json(stack))
            return out

        only_probe = probes[0] if len(probes) == 1 else None

        def on_event(data):
            if state["done"]:
                return
            probe = only_probe or probes[int.from_bytes(data[:4], "little")]
            e = probe.record.decode(data)
            if name not in e.comm:
                return
            msg = probe.message(e)
            if args.msg_filter and args.msg_filter not in msg:
                return
            row = values(probe, e, msg)
            out = json.dumps(event_json(e, row)) + "\n" if args.json else event_text(e, row)
            if args.aggregate:
                aggregate[out] = aggregate.get(out, 0) + 1
            else:
                sys.stdout.write(out)
                if (args.kernel_stack or args.user_stack) and not args.json:
                    sys.stdout.write("\n")
            state["count"] += 1
            if args.max_events is not None and state["count"] >= args.max_events:
                state["done"] = True

        tool.open_events(on_event, page_cnt=args.buffer_pages)
        table.print_header()
        stream_events(tool, args.duration, should_stop=lambda: state["done"])
        if args.aggregate and state["done"]:
            for k, v in sorted(aggregate.items(), key=lambda kv: kv[1], reverse=True):
                if args.json:
                    sys.stdout.write(json.dumps({**json.loads(k), "count": v}) + "\n")
                else:
                    sys.stdout.write("%s-->COUNT %d\n\n" % (k, v))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
