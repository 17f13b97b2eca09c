"""`pybcc TOOL [ARGS]`, `pybcc run SCRIPT [ARGS]`, `pybcc load OBJ.o`."""
import importlib
import os
import sys
import time


def _import_argparse():
    """argparse, imported without gettext. argparse passes its own messages
    through gettext, which finds no catalogue for them (Python ships none)
    but costs ~2.5 ms of each start: importing gettext and locale, and
    looking for .mo files. The stand-in returns the messages as they are,
    which is what gettext does here; it is argparse's alone (removed from
    sys.modules once argparse has it), so any other importer gets the
    real gettext."""
    if "argparse" not in sys.modules and "gettext" not in sys.modules:
        import types
        stand_in = types.ModuleType("gettext")
        stand_in.gettext = lambda message: message
        stand_in.ngettext = lambda singular, plural, n: singular if n == 1 else plural
        sys.modules["gettext"] = stand_in
        try:
            import argparse
        finally:
            del sys.modules["gettext"]
    import argparse
    return argparse


argparse = _import_argparse()


def _record_code_memo():
    """Where the record code this Python build compiled is kept (see
    pybcc/record.py); None when the cache cannot be used."""
    from . import cache
    try:
        tag = cache.sha256(sys.version.encode()).hexdigest()[:16]
        return os.path.join(cache.private_dir("record-code"), f"{tag}.memo")
    except OSError:
        return None


def _use_record_code():
    from . import cache, record
    path = _record_code_memo()
    if path:
        record.use_templates(cache.read_memo(path))


def remember_record_code():
    """Store the record code compiled in this process for the next one."""
    from . import cache, record
    found = record.new_templates()
    path = _record_code_memo() if found else None
    if path:
        try:
            cache.write_memo(path, found)
        except (OSError, ValueError):
            pass    # an unusable cache only costs time


def _load_command(argv):
    p = argparse.ArgumentParser(prog="pybcc load",
                                description="Load every program of a BPF object and report each.")
    p.add_argument("object", help="a BPF ELF object (clang -target bpf -g)")
    p.add_argument("--attach", action="store_true", help="also attach each program by its section name")
    p.add_argument("--duration", type=float, default=0, help="stay attached this many seconds")
    args = p.parse_args(argv)

    from . import loader
    from .errors import BPFError
    try:
        coll = loader.load(args.object, keep_going=True)
    except BPFError as e:
        print(f"{args.object}: {e}", file=sys.stderr)
        return 1
    failed = 0
    with coll:
        if coll.btf_error:
            print(f"note: object BTF not loaded ({coll.btf_error}); loaded without type info")
        for name, ps in coll.spec.programs.items():
            kind = ps.sdef.prog_type.name.lower() if ps.sdef else "?"
            if name in coll.programs:
                status = "ok"
                if args.attach:
                    try:
                        coll.programs[name].attach()
                        status = "ok, attached"
                    except BPFError as e:
                        status, failed = f"attach failed: {e}", failed + 1
            else:
                err = coll.errors.get(name)
                status = f"error: {str(err).splitlines()[0] if err else 'not loaded'}"
                if err is not None and getattr(err, "source_line", None) is not None:
                    status += "\n    " + "\n    ".join(str(err).splitlines()[1:2])
                failed += 1
            print(f"{name:<24} {kind:<16} {status}")
        if args.attach and args.duration:
            time.sleep(args.duration)
    return 1 if failed else 0


def _run_command(argv):
    from .bcc_compat import run_script
    return run_script(argv)


CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF = 21, 38, 39


def _can_trace():
    """Whether this process holds what loading and attaching BPF programs
    takes: CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON (Linux 5.8+)."""
    try:
        with open("/proc/self/status") as f:
            eff = next(int(ln.split()[1], 16) for ln in f if ln.startswith("CapEff:"))
    except (OSError, StopIteration, ValueError):
        return os.geteuid() == 0
    has = lambda cap: bool(eff >> cap & 1)  # noqa: E731
    return has(CAP_SYS_ADMIN) or (has(CAP_BPF) and has(CAP_PERFMON))


def _need_privileges(rest):
    """One line and exit status 1 when tracing cannot work (help still does)."""
    if "-h" in rest or "--help" in rest or _can_trace():
        return None
    print("pybcc: tracing needs root, or CAP_BPF with CAP_PERFMON (try again with sudo)",
          file=sys.stderr)
    return 1


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    _use_record_code()      # before the registry and the tool define their records
    if not argv or argv[0] in ("-h", "--help"):
        from .tools import registry
        print("usage: pybcc TOOL [ARGS] | pybcc run SCRIPT [ARGS] | pybcc load OBJ.o [--attach]\n"
              "       pybcc flamegraph FOLDED|- > out.svg (folded stacks drawn as a flame graph)\n"
              "       (pybcc TOOL -h: the tool's flags; --json: NDJSON output)\n\n"
              + registry.help_text())
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "load":
        return _load_command(rest)
    if cmd == "run":
        return _need_privileges(rest[1:] if rest else rest) or _run_command(rest)
    if cmd == "flamegraph":
        from .output.flamegraph_cli import main as flamegraph_main
        return flamegraph_main(rest)
    if cmd == "exporter":
        from .exporter.cli import main as exporter_main
        return _need_privileges(rest) or exporter_main(rest)
    from .tools import registry
    if cmd not in registry.BY_NAME:
        print(f"pybcc: no tool or command {cmd!r} (try: pybcc --help)", file=sys.stderr)
        return 2
    if _need_privileges(rest):
        return 1
    module, rest = registry.command(cmd, rest)
    mod = importlib.import_module(f"pybcc.tools.{module}")
    from .tools.lib.runtime import run_tool
    rc = run_tool(mod.main, rest) or 0
    from .cache_sweep import maybe_sweep
    maybe_sweep()      # the tool has detached: a day's stale memos go now
    remember_record_code()
    # The tool has detached and closed everything. Leave without freeing the
    # parsed kernel BTF object by object (~130k objects: up to 0.6 s of CPU).
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass
    os._exit(rc)


if __name__ == "__main__":
    sys.exit(main())
