"""inject: fail kernel allocations or bios when a call chain and predicates match (bcc's flags).

Needs kprobes and bpf_override_return (CONFIG_BPF_KPROBE_OVERRIDE, with
CONFIG_FUNCTION_ERROR_INJECTION): it refuses in one line where they are missing.
"""
import re
import sys
import time

from ..errors import BPFError
from ..kernel import features
from .lib.args import number, tool_parser
from .lib.probespec import Generator, GeneratedTool, Spec, SpecError, _balanced_end, split_top
from .lib.runtime import fail, run_tool, status

EXAMPLES = """EXAMPLES:
# ./inject.py kmalloc -v 'SyS_mount()'
    Fails all calls to syscall mount
# ./inject.py kmalloc -v '(true) => SyS_mount()(true)'
    Explicit rewriting of above
# ./inject.py kmalloc -v 'mount_subtree() => btrfs_mount()'
    Fails btrfs mounts only
# ./inject.py kmalloc -v 'd_alloc_parallel(struct dentry *parent, const struct \\
    qstr *name)(STRCMP("bananas", name->name))'
    Fails dentry allocations of files named 'bananas' (pybcc's STRCMP takes
    the literal first, as trace's does)
# ./inject.py kmalloc -v -P 0.01 'SyS_mount()'
    Fails calls to syscall mount with 1% probability

The chain reads from the innermost function (next to the failing one) out to
the outermost; a predicate in parentheses follows each function, and a lone
one first applies to the failing function itself. Needs kprobes and
bpf_override_return (CONFIG_BPF_KPROBE_OVERRIDE): stock Debian kernels lack
the latter, and so does this machine's; inject says so and stops.
"""

MODES = {   # the failing function, its signature, and what it then returns
    "kmalloc": ("should_failslab", "struct kmem_cache *s, gfp_t gfpflags", "-12"),    # -ENOMEM
    "bio": ("should_fail_bio", "struct bio *bio", "-5"),                              # -EIO
    "alloc_page": ("should_fail_alloc_page", "gfp_t gfp_mask, unsigned int order", "1"),
}
MAX_CHAIN = 63


probability = number(float, "probability", lambda v: 0 < v <= 1,
                     "a probability is in (0, 1], not {text}")


def parse_args(argv):
    p = tool_parser("inject", "Fail specified kernel functionality when call chain and "
                    "predicates are met", EXAMPLES)
    p.add_argument(dest="mode", choices=list(MODES),
                   help="indicate which base kernel function to fail")
    p.add_argument(metavar="spec", dest="spec", help="specify call chain")
    p.add_argument("-I", "--include", action="append", metavar="header",
                   help="additional header files to include in the BPF program")
    p.add_argument("-P", "--probability", default=1, metavar="probability", type=probability,
                   help="probability that this call chain will fail")
    p.add_argument("-v", "--verbose", action="store_true", help="print BPF program")
    p.add_argument("-c", "--count", type=int, default=-1,
                   help="Number of fails before bypassing the override")
    return p.parse_args(argv)


def parse_chain(spec, mode):
    """[(function, signature, predicate)] from the outermost function in to
    the failing one (last, with the mode's signature)."""
    failing, signature, _ = MODES[mode]
    frames = []
    for i, part in enumerate(p.strip() for p in split_top(spec, "=>")):
        if not part:
            raise SpecError("Cannot parse spec, missing parens")
        if part.startswith("("):
            if i:
                raise SpecError(f"a lone predicate {part} can only come first "
                                f"(it applies to {failing})")
            frames.append((failing, signature, _predicate(part, spec)))
            continue
        m = re.match(r"[_a-zA-Z][_a-zA-Z0-9]*", part)
        if not m:
            raise SpecError(f"Invalid function identifier in {part!r}")
        name, rest, sig = m.group(0), part[m.end():].strip(), ""
        if rest.startswith("("):
            end = _balanced_end(rest, 0)
            if end < 0:
                raise SpecError("Check your parentheses")
            sig, rest = rest[1:end - 1].strip(), rest[end:].strip()
        pred = _predicate(rest, spec) if rest else "true"
        frames.append((name, sig, pred))
    if not frames or frames[0][0] != failing:
        frames.insert(0, (failing, signature, "true"))
    names = [f[0] for f in frames]
    if len(set(names)) != len(names):
        raise SpecError("a function may appear only once in the call chain (pybcc)")
    if len(frames) > MAX_CHAIN:
        raise SpecError(f"at most {MAX_CHAIN} functions in the call chain")
    return frames[::-1]


def _predicate(text, spec):
    end = _balanced_end(text, 0)
    if end != len(text):
        raise SpecError(f"Invalid characters found after the predicate in {spec!r}")
    return text[1:-1].strip() or "true"


def generate(chain, args):
    """The BPF C: a bit per chain function, set while the function runs and
    its predicate held; the failing function fails when every bit is set."""
    gen = Generator(includes=args.include or ())
    n = len(chain)
    full = (1 << (n - 1)) - 1           # every function but the failing one
    threshold = 0 if args.probability >= 1 else int((1 << 32) * args.probability)
    gen.add(f"""
const volatile s64 max_fails = {args.count};

struct {{
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 10240);
    __type(key, u32);
    __type(value, u64);
}} chain SEC(".maps");          /* thread -> the chain functions running, a bit each */

struct {{
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
}} fails SEC(".maps");
""")
    for i, (func, sig, pred) in enumerate(chain):
        spec = Spec(f"{func}({sig})", "p", "", func, 0, sig)
        locals_ = gen.signature_locals(spec)
        cond = gen.rewrite(pred, spec, user_strings=False)
        tid = "    u32 tid = bpf_get_current_pid_tgid();\n    u64 *bits;\n"
        if i == n - 1:              # the failing function
            chance = f"    if (bpf_get_prandom_u32() > {threshold}U) return 0;\n" \
                if threshold and n == 1 else ""
            gen.add(f"""SEC("kprobe/{func}")
int inject_{func}(struct pt_regs *ctx)
{{
{locals_}{tid}    u32 zero = 0;
    u64 *nfails;
    bits = bpf_map_lookup_elem(&chain, &tid);
    if ({'(!bits || *bits != %dULL)' % full if n > 1 else '0'})
        return 0;
{chance}    if (!({cond}))
        return 0;
    nfails = bpf_map_lookup_elem(&fails, &zero);
    if (!nfails || (max_fails >= 0 && *nfails >= (u64)max_fails))
        return 0;
    __sync_fetch_and_add(nfails, 1);
    bpf_override_return(ctx, {MODES[args.mode][2]});
    return 0;
}}
""")
            continue
        bit = 1 << (n - 2 - i)
        if i == 0:                  # the outermost function starts the chain
            chance = f"    if (bpf_get_prandom_u32() > {threshold}U) return 0;\n" \
                if threshold else ""
            enter = f"""{chance}    if (!({cond}))
        return 0;
    u64 first = {bit}ULL;
    bpf_map_update_elem(&chain, &tid, &first, BPF_ANY);"""
            leave = "    bpf_map_delete_elem(&chain, &tid);"
        else:
            enter = f"""    bits = bpf_map_lookup_elem(&chain, &tid);
    if (bits && ({cond}))
        __sync_fetch_and_or(bits, {bit}ULL);"""
            leave = f"""    bits = bpf_map_lookup_elem(&chain, &tid);
    if (bits)
        __sync_fetch_and_and(bits, ~{bit}ULL);"""
        gen.add(f"""SEC("kprobe/{func}")
int enter_{func}(struct pt_regs *ctx)
{{
{locals_}{tid}{enter}
    return 0;
}}

SEC("kretprobe/{func}")
int leave_{func}(struct pt_regs *ctx)
{{
{tid}{leave}
    return 0;
}}
""")
    return gen.text()


def missing_feature():
    """What this kernel lacks for inject, or None."""
    if not features.has_kprobes():
        return "kprobes (CONFIG_KPROBES)"
    from ..kernel.uapi import ProgType
    try:
        if not features.helper_supported(ProgType.KPROBE, 58):      # bpf_override_return
            return "bpf_override_return (CONFIG_BPF_KPROBE_OVERRIDE)"
    except BPFError:
        return "bpf_override_return (CONFIG_BPF_KPROBE_OVERRIDE)"
    return None


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        chain = parse_chain(args.spec, args.mode)
        text = generate(chain, args)
    except SpecError as e:
        fail(f"inject: {e}", code=2)
    if args.verbose:
        print(text)
        sys.stdout.flush()
    lacking = missing_feature()
    if lacking:
        fail(f"inject: this kernel has no {lacking}, which error injection needs; "
             f"it works on kernels built with CONFIG_BPF_KPROBE_OVERRIDE=y")
    with GeneratedTool(text, "inject") as tool:
        for func, _, _ in chain[:-1]:
            tool.attach(f"enter_{func}", func)
            tool.attach(f"leave_{func}", func)
        tool.attach(f"inject_{chain[-1][0]}", chain[-1][0])
        status("Injecting... Hit Ctrl-C to end.")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(run_tool(main, sys.argv[1:]))
