"""Find a C compiler that can target BPF.

Order: $CC (when it is a clang that targets BPF), clang on PATH (clang,
clang-22 ... clang-11), then the clang inside the `ziglang` wheel
(pip install 'pybcc[compiler]'). What we learn about a compiler binary
(version, whether -target bpf works) is kept on disk keyed by its path, size
and mtime, so a later process can identify it without running it.
"""
import importlib.util
import os
import re
import shlex
import shutil
import sys

from ..errors import CompileError
from ..record import record
from . import cache

MIN_CLANG = 11
ZIGLANG_MODULE = "ziglang"
_CLANG_NAMES = ["clang"] + [f"clang-{v}" for v in range(22, MIN_CLANG - 1, -1)]

INSTALL_HINT = ("install one with `apt install clang` (or dnf/apk/pacman install clang), "
                "or `pip install 'pybcc[compiler]'` for the clang inside the ziglang wheel, "
                "or point CC at a clang >= %d" % MIN_CLANG)


@record(frozen=True)
class Compiler:
    """A BPF-capable compiler. ``argv`` starts a compile; ``flags`` are the
    flags this kind of compiler needs for BPF; ``identity`` names it in cache keys."""
    kind: str                 # "clang" or "zig"
    argv: tuple               # of str
    path: str
    version: str              # e.g. "16.0.6"
    flags: tuple = ()         # of str
    env: tuple = ()           # of (name, value)

    @property
    def major(self):
        return int(self.version.split(".")[0])

    @property
    def identity(self):
        return f"{self.kind}:{self.path}:{self.version}"

    def __str__(self):
        return f"{self.kind} {self.version} ({' '.join(self.argv)})"


def bpf_target():
    return "bpfel" if sys.byteorder == "little" else "bpfeb"


_memo = {}


def find_compiler(refresh=False):
    """Return the Compiler to use, or raise CompileError saying how to get one."""
    key = (os.environ.get("CC"), os.environ.get("PATH"))
    if not refresh and key in _memo:
        return _memo[key]
    tried = []
    comp = _from_cc(tried, refresh) or _system_clang(tried, refresh) or _ziglang(tried, refresh)
    if comp is None:
        raise CompileError("no C compiler that targets BPF was found (tried: %s); %s"
                           % ("; ".join(tried), INSTALL_HINT))
    _memo[key] = comp
    return comp


def system_clang(refresh=False):
    """The best clang on PATH that targets BPF, or None."""
    return _system_clang([], refresh)


def ziglang_compiler(refresh=False):
    """The clang inside the ziglang wheel, or None when it is not installed."""
    return _ziglang([], refresh)


def _from_cc(tried, refresh):
    cc = os.environ.get("CC")
    if not cc:
        return None
    words = shlex.split(cc)
    exe = shutil.which(words[0]) if words else None
    if not exe:
        tried.append(f"CC={cc} (not found)")
        return None
    if os.path.basename(exe).startswith("zig") and words[1:2] == ["cc"]:
        return _zig_at(exe, tried, refresh)
    return _clang_at(exe, words[1:], tried, refresh, label=f"CC={cc}")


def _system_clang(tried, refresh):
    seen = set()
    for name in _CLANG_NAMES:
        exe = shutil.which(name)
        if not exe:
            continue
        real = os.path.realpath(exe)
        if real in seen:
            continue
        seen.add(real)
        comp = _clang_at(exe, [], tried, refresh, label=name)
        if comp:
            return comp
    if not seen:
        tried.append("clang, clang-22 ... clang-%d on PATH (none found)" % MIN_CLANG)
    return None


def _ziglang(tried, refresh):
    try:
        spec = importlib.util.find_spec(ZIGLANG_MODULE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        tried.append("ziglang wheel (not installed)")
        return None
    pkg = list(spec.submodule_search_locations)[0]
    exe = os.path.join(pkg, "zig.exe" if os.name == "nt" else "zig")
    if not os.path.exists(exe):
        tried.append(f"ziglang wheel ({exe} missing)")
        return None
    return _zig_at(exe, tried, refresh)


def _clang_at(exe, extra, tried, refresh, label):
    facts = _probe(exe, tuple(extra), "clang", refresh)
    if not facts.get("version"):
        tried.append(f"{label} ({facts.get('why', 'not clang')})")
        return None
    if not facts.get("ok"):
        tried.append(f"{label} (clang {facts['version']}: {facts.get('why')})")
        return None
    return Compiler("clang", (exe, *extra), exe, facts["version"],
                    flags=("-target", bpf_target()))


def _zig_at(exe, tried, refresh):
    facts = _probe(exe, ("cc",), "zig", refresh)
    if not facts.get("ok"):
        tried.append(f"zig cc at {exe} ({facts.get('why', 'failed')})")
        return None
    zigcache = cache.private_dir("zig")
    return Compiler("zig", (exe, "cc"), exe, facts["version"],
                    flags=("-target", bpf_target() + "-freestanding-none",
                           "-fno-asynchronous-unwind-tables", "-fno-unwind-tables",
                           "-fno-sanitize=all"),
                    env=(("ZIG_GLOBAL_CACHE_DIR", zigcache), ("ZIG_LOCAL_CACHE_DIR", zigcache)))


# --- probing, with the results remembered on disk ----------------------------

def _facts_file():
    try:
        return os.path.join(cache.private_dir(), "compilers.json")
    except (OSError, CompileError):
        return None


def _probe(exe, extra, kind, refresh):
    try:
        st = os.stat(exe)
    except OSError as e:
        return {"why": e.strerror}
    key = f"{kind}:{exe}:{' '.join(extra)}"
    stamp = [st.st_size, st.st_mtime_ns]
    path = _facts_file()
    db = (cache.read_json(path) or {}) if path else {}
    entry = db.get(key)
    if not refresh and entry and entry.get("stamp") == stamp:
        return entry
    entry = _run_probe(exe, extra, kind)
    entry["stamp"] = stamp
    if path:
        db = cache.read_json(path) or {}
        db[key] = entry
        try:
            cache.write_json(path, db)
        except OSError:
            pass
    return entry


def _run_probe(exe, extra, kind):
    import subprocess       # once per compiler, then remembered
    argv = [exe, *extra]
    env = None
    if kind == "zig":
        zigcache = cache.private_dir("zig")
        env = dict(os.environ, ZIG_GLOBAL_CACHE_DIR=zigcache, ZIG_LOCAL_CACHE_DIR=zigcache)
    target = bpf_target() + ("-freestanding-none" if kind == "zig" else "")
    # One run, not --version then a compile (each start of clang is ~20 ms
    # of CPU): -v prints the version, and a real compile to an object proves
    # the BPF backend is built in.
    with cache_tmpdir() as tmp:
        obj = os.path.join(tmp, "probe.o")
        try:
            r = subprocess.run(argv + ["-v", "-target", target, "-O2", "-g", "-c", "-x", "c", "-",
                                       "-o", obj],
                               input="int probe(void *ctx) { return 0; }\n",
                               capture_output=True, text=True, errors="replace", timeout=120,
                               env=env)     # -v prints paths, whatever their encoding
        except (OSError, subprocess.SubprocessError) as e:
            return {"why": str(e)}
        m = re.search(r"clang version (\d+\.\d+(?:\.\d+)?)", r.stderr)
        if not m:
            return {"why": "not clang"}
        version = m.group(1)
        if int(version.split(".")[0]) < MIN_CLANG:
            return {"version": version, "ok": False, "why": f"older than {MIN_CLANG}"}
        if r.returncode != 0 or not _is_bpf_elf(obj):
            # clang's last error, not -v's command lines or "1 error generated."
            lines = r.stderr.strip().splitlines()
            why = ([ln for ln in lines if "error:" in ln] or lines or ["no BPF object produced"])[-1]
            return {"version": version, "ok": False, "why": f"-target {target} failed: {why}"}
    return {"version": version, "ok": True}


def _is_bpf_elf(path):
    from ..symbols.elf import machine_of    # lazy: symbols/ is heavy to import
    machine = machine_of(path)
    return machine is not None and machine[2] == 247   # EM_BPF


class cache_tmpdir:
    """A scratch directory inside the cache root (same filesystem as the
    objects, so results can be renamed into place), removed on exit."""

    def __enter__(self):
        import tempfile
        try:
            base = cache.private_dir("tmp")
        except (OSError, CompileError):
            base = None
        self.path = tempfile.mkdtemp(prefix="cc-", dir=base)
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)
