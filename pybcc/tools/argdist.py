"""argdist: histograms and frequency counts of function arguments, return
values and tracepoint fields, by probe specifiers with C expressions (bcc's
syntax, flags and output).

Each invocation generates C for its probes (see probespec); the compiler
caches objects by text, so repeating a command compiles nothing.
"""
import re
import sys
from time import strftime

from .. import record
from ..output.histogram import buckets_from_map, log2_buckets, log2_hist_text
from ..output.table import Column, Table
from .lib.args import non_negative_int, pid, positive_int, tool_parser
from .lib.probespec import (
    GeneratedTool,
    Generator,
    SpecError,
    attach_probe,
    parse_specifier,
    split_top,
    string_size,
    user_target,
)
from .lib.report import report_loop
from .lib.runtime import fail, run_tool, status

EXAMPLES = """
Probe specifier syntax:
        {p,r,t,u}:{[library],category}:function(signature):type[,type...]:expr[,expr...][:filter]][#label]
Where:
        p,r,t,u    -- probe at function entry, function exit, kernel
                      tracepoint, or USDT probe
                      in exit probes: can use $retval, $entry(param), $latency
        library    -- the library that contains the function
                      (leave empty for kernel functions)
        category   -- the category of the kernel tracepoint (e.g. net, sched)
        function   -- the function name to trace (or tracepoint name)
        signature  -- the function's parameters, as in the C header
        type       -- the type of the expression to collect (supports multiple)
        expr       -- the expression to collect (supports multiple)
        filter     -- the filter that is applied to collected values
        label      -- the label for this probe in the resulting output

EXAMPLES:

argdist -H 'p::__kmalloc(u64 size):u64:size'
        Print a histogram of allocation sizes passed to kmalloc

argdist -p 1005 -C 'p:c:malloc(size_t size):size_t:size:size==16'
        Print a frequency count of how many times process 1005 called malloc
        with an allocation size of 16 bytes

argdist -C 'r:c:gets():char*:(char*)$retval#snooped strings'
        Snoop on all strings returned by gets()

argdist -H 'r::__kmalloc(size_t size):u64:$latency/$entry(size)#ns per byte'
        Print a histogram of nanoseconds per byte from kmalloc allocations

argdist -p 1005 -C 'p:c:write(int fd):int:fd' -T 5
        Print frequency counts of how many times writes were issued to a
        particular file descriptor number, in process 1005, but only show
        the top 5 busiest fds

argdist -p 1005 -H 'r:c:read()'
        Print a histogram of results (sizes) returned by read() in process 1005

argdist -H 'p:c:write(int fd, const void *buf, size_t count):size_t:count:fd==1'
        Print a histogram of buffer sizes passed to write() across all
        processes, where the file descriptor was 1 (STDOUT)

argdist -C 'p:c:fork()#fork calls'
        Count fork() calls in libc across all processes

argdist -H 't:block:block_rq_complete():u32:args->nr_sector'
        Print histogram of number of sectors in completing block I/O requests

argdist -C 't:irq:irq_handler_entry():int:args->irq'
        Aggregate interrupts by interrupt request (IRQ)

argdist -H 'p:c:sleep(u32 seconds):u32:seconds' \\
        -H 'p:c:nanosleep(struct timespec *req):long:req->tv_nsec'
        Print histograms of sleep() and nanosleep() parameter values
"""


JSON_HELP = ("print one JSON object per interval: per probe its label, and its histogram "
             "buckets (low, high, count) or its counts (count and the values of the "
             "expressions) (pybcc extension)")


def parse_args(argv):
    p = tool_parser("argdist", "Trace a function and display a summary of its parameter values.",
                    EXAMPLES)
    p.add_argument("-p", "--pid", type=pid, help="id of the process to trace (optional)")
    p.add_argument("-t", "--tid", type=pid, help="id of the thread to trace (optional)")
    p.add_argument("-z", "--string-size", default=80, type=string_size,
                   help="maximum string size to read from char* arguments")
    p.add_argument("-i", "--interval", default=1, type=positive_int,
                   help="output interval, in seconds (default 1 second)")
    p.add_argument("-d", "--duration", type=positive_int,
                   help="total duration of trace, in seconds")
    p.add_argument("-n", "--number", type=positive_int, dest="count", help="number of outputs")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print resulting BPF program code before executing")
    p.add_argument("-c", "--cumulative", action="store_true",
                   help="do not clear histograms and freq counts at each interval")
    p.add_argument("-T", "--top", type=non_negative_int,
                   help="number of top results to show (not applicable to histograms)")
    p.add_argument("-H", "--histogram", action="append", dest="histspecifier",
                   metavar="specifier",
                   help="probe specifier to capture histogram of (see examples below)")
    p.add_argument("-C", "--count", action="append", dest="countspecifier",
                   metavar="specifier",
                   help="probe specifier to capture count of (see examples below)")
    p.add_argument("-I", "--include", action="append", metavar="header",
                   help="additional header files to include in the BPF program "
                        "as either full path, or relative to current working directory, "
                        "or relative to default kernel header search path")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    args = p.parse_args(argv)
    if not args.countspecifier and not args.histspecifier:
        p.error("at least one specifier is required")
    return args


def _is_string(t):
    return t.replace(" ", "") == "char*"


class Probe:
    def __init__(self, index, kind, text):
        self.index = index
        self.kind = kind            # "freq" or "hist"
        self.spec = parse_specifier(text)
        spec = self.spec
        self.is_default_expr = not spec.exprs
        if self.is_default_expr:
            if spec.probe_type != "r" and kind == "hist":
                raise SpecError(f"error parsing probe '{text}': histograms must have expr")
            spec.types = ["u64" if spec.probe_type != "r" else "int"]
            spec.exprs = ["1" if spec.probe_type != "r" else "$retval"]
        if kind == "hist" and len(spec.exprs) > 1:
            raise SpecError(f"error parsing probe '{text}': histograms can only have 1 expr")
        self.display_exprs = [re.sub(r"\$entry\((\w+)\)", r"\1", e) for e in spec.exprs]
        base = re.sub(r"[^A-Za-z0-9_]", "_", spec.function)
        self.name = f"{base}_probe{index}"
        self.map_name = f"{base}_hash{index}"
        # values a return probe needs from the function's entry
        used = " ".join(spec.exprs + [spec.filter])
        self.entry_params = sorted(set(re.findall(r"\$entry\((\w+)\)", used)))
        self.latency = "$latency" in used
        self.params = {}
        for param in split_top(spec.signature or ""):
            param = param.strip()
            if param and param != "void":
                cut = max(param.rfind("*"), param.rfind(" "))
                self.params[param[cut + 1:].strip()] = param[:cut + 1].strip()
        for name in self.entry_params:
            if name not in self.params:
                raise SpecError(f"$entry({name}): no such param")
        self.needs_entry = spec.probe_type == "r" and (self.entry_params or self.latency)

    def label(self):
        return self.spec.label or self.spec.raw

    def generate(self, gen, string_size):
        spec = self.spec
        user = spec.is_user
        head_filters = ("    u64 __pid_tgid = bpf_get_current_pid_tgid();\n"
                        "    u32 __pid = (u32)__pid_tgid, __tgid = __pid_tgid >> 32;\n"
                        "    if (targ_tgid && __tgid != targ_tgid)\n        return 0;\n"
                        "    if (targ_tid && __pid != targ_tid)\n        return 0;\n")
        saved = list(self.entry_params) + (["__latency"] if self.latency else [])
        types = dict(self.params, __latency="u64")
        for name in saved:
            gen.add(_hash_map(f"{self.name}_param_{name}", "u32", types[name], 10240))

        if self.needs_entry:
            entry = record.replace(spec, probe_type="p")
            body = gen.function_head(entry, self.name + "_entry") + head_filters
            body += gen.signature_locals(entry)
            for name in saved:
                if name == "__latency":
                    body += "    u64 __latency = bpf_ktime_get_ns();\n"
                body += (f"    bpf_map_update_elem(&{self.name}_param_{name}, &__pid, "
                         f"&{name}, BPF_ANY);\n")
            gen.add(body + "    return 0;\n}\n")

        exprs, filt = list(spec.exprs), spec.filter
        prefix = ""
        for name in saved:
            val = f"__{name}_val"
            prefix += (f"    {types[name]} *{val} = bpf_map_lookup_elem("
                       f"&{self.name}_param_{name}, &__pid);\n"
                       f"    if (!{val})\n        return 0;\n")
            old = "$latency" if name == "__latency" else f"$entry({name})"
            new = f"(bpf_ktime_get_ns() - *{val})" if name == "__latency" else f"(*{val})"
            exprs = [e.replace(old, new) for e in exprs]
            filt = filt.replace(old, new)

        if self.kind == "hist":
            gen.add(_hash_map(self.map_name, "u32", "u64", 64))
        else:
            fields = "".join(f"    char v{i}[{string_size}];\n" if _is_string(t)
                             else f"    {t} v{i};\n" for i, t in enumerate(spec.types))
            gen.add(f"struct {self.map_name}_key {{\n{fields}}};\n" +
                    _hash_map(self.map_name, f"struct {self.map_name}_key", "u64", 10240))

        body = gen.function_head(spec, self.name) + head_filters
        if spec.probe_type == "p":
            body += gen.signature_locals(spec)
        body += prefix
        if self.kind == "hist":
            expr = gen.rewrite(exprs[0], spec, user)
            body += (f"    {spec.types[0]} __key = ({spec.types[0]})({expr});\n"
                     "    u32 __slot = log2_slot((u64)__key);\n")
        else:
            body += f"    struct {self.map_name}_key __key = {{}};\n"
            for i, (t, e) in enumerate(zip(spec.types, exprs)):
                expr = gen.rewrite(e, spec, user)
                if _is_string(t):
                    body += gen.read_string(f"__key.v{i}", expr, user)
                else:
                    body += f"    __key.v{i} = ({t})({expr});\n"
        cond = gen.rewrite(filt, spec, user) if filt.strip() else "1"
        body += f"    if (!({cond}))\n        return 0;\n"
        key = "&__slot" if self.kind == "hist" else "&__key"
        body += f"    pybcc_increment(&{self.map_name}, {key});\n"
        for name in saved:
            body += f"    bpf_map_delete_elem(&{self.name}_param_{name}, &__pid);\n"
        gen.add(body + "    return 0;\n}\n")

    def attach(self, tool, pid):
        attach_probe(tool, self.name, self.spec, pid)
        if self.needs_entry:
            attach_probe(tool, self.name + "_entry",
                         record.replace(self.spec, probe_type="p"), pid)

    def _value_text(self, v):
        return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)

    def _event_text(self, key):
        if self.is_default_expr:
            return "total calls" if self.spec.probe_type != "r" else \
                "retval = %s" % self._value_text(key[0])
        return ", ".join("%s = %s" % (self.display_exprs[i], self._value_text(v))
                         for i, v in enumerate(key))

    def _event_json(self, key):
        if self.is_default_expr:
            return {} if self.spec.probe_type != "r" else {"retval": key[0]}
        return {self.display_exprs[i]: self._value_text(v) if isinstance(v, bytes) else v
                for i, v in enumerate(key)}

    def counts_table(self, json):
        """bcc's frequency rows; a row is (key, count)."""
        return Table([Column("COUNT", "\t%-10s ", lambda row: row[1]),
                      Column("EVENT", "%s", lambda row: self._event_text(row[0]), key="values",
                             json=lambda row: self._event_json(row[0]))], json=json)

    def collect(self, tool, top, cumulative):
        """This interval's (key, count) items; the map is cleared unless
        ``cumulative``. Counts: smallest first, the ``top`` ones."""
        data = tool.maps[self.map_name]
        items = list(data.items())
        if not cumulative:
            for key, _ in items:
                try:
                    del data[key]
                except KeyError:
                    pass
        if self.kind == "freq":
            items.sort(key=lambda kv: kv[1])
            if top is not None:
                items = items[-top:] if top > 0 else []
        return items

    def hist_label(self):
        return self.spec.label or (self.display_exprs[0] if not self.is_default_expr
                                   else "retval")

    def text(self, items):
        if self.kind == "hist":
            return log2_hist_text(buckets_from_map(items), val_type=self.hist_label())
        table = self.counts_table(False)
        return "".join([self.label() + "\n", table.header_text() + "\n"] +
                       [table.format(row) for row in items])

    def as_dict(self, items):
        if self.kind == "hist":
            return {"label": self.hist_label(), "specifier": self.spec.raw,
                    "buckets": log2_buckets(buckets_from_map(items))}
        table = self.counts_table(True)
        return {"label": self.label(), "specifier": self.spec.raw,
                "counts": [table.as_dict(row) for row in items]}


COMMON_C = """
const volatile u32 targ_tgid = 0;
const volatile u32 targ_tid = 0;

static __always_inline void pybcc_increment(void *map, void *key)
{
    u64 one = 1, *n = bpf_map_lookup_elem(map, key);

    if (n) {
        __sync_fetch_and_add(n, 1);
        return;
    }
    if (bpf_map_update_elem(map, key, &one, BPF_NOEXIST)) {
        n = bpf_map_lookup_elem(map, key);   /* another CPU created it */
        if (n)
            __sync_fetch_and_add(n, 1);
    }
}
"""


def _hash_map(name, key, value, entries):
    return ("struct {\n    __uint(type, BPF_MAP_TYPE_HASH);\n"
            f"    __uint(max_entries, {entries});\n    __type(key, {key});\n"
            f"    __type(value, {value});\n}} {name} SEC(\".maps\");\n")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        probes = [Probe(i, "freq", s) for i, s in enumerate(args.countspecifier or [])]
        probes += [Probe(len(probes) + i, "hist", s)
                   for i, s in enumerate(args.histspecifier or [])]
        for probe in probes:
            if probe.spec.is_user and probe.spec.probe_type != "u":
                user_target(probe.spec, args.pid or -1)
        gen = Generator(args.string_size, args.include or ())
        gen.add(COMMON_C)
        for probe in probes:
            probe.generate(gen, args.string_size)
    except SpecError as e:
        fail(str(e), e.exit_code)
    text = gen.text()
    if args.verbose:
        print(text)
    constants = {}
    if args.pid:
        constants["targ_tgid"] = args.pid
    if args.tid:
        constants["targ_tid"] = args.tid

    with GeneratedTool(text, "argdist", constants) as tool:
        try:
            for probe in probes:
                probe.attach(tool, args.pid or -1)
        except SpecError as e:
            fail(str(e), e.exit_code)
        if args.json:
            status("Tracing %d probes... Hit Ctrl-C to end." % len(probes), True)

        def report(json):
            collected = [(p, p.collect(tool, args.top, args.cumulative)) for p in probes]
            if json:
                return {"probes": [p.as_dict(items) for p, items in collected]}
            return "[%s]\n" % strftime("%H:%M:%S") + "".join(p.text(items)
                                                              for p, items in collected)
        # as bcc: Ctrl-C ends without another report
        report_loop(report, args.interval, args.count, args.duration, args.json,
                    blank_line=False, report_at_interrupt=False)
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
