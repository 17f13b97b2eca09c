"""Benchmark 1: start-up — time from exec to "attached and tracing", CPU
seconds and peak RSS of the tool's process tree, for execsnoop, opensnoop,
runqlat and biolatency; pybcc cold (empty cache) and warm (same cache again)
against libbpf-tools, bpftrace and bcc.

Attached is detected by a marker event the tool must print (an exec of
/bin/true TOKEN; an open of a marker path), or for histogram tools (which
print nothing until the end) by their "Tracing ... Hit Ctrl-C" line, which
all of them print after attaching; the harness checks that the process
holds perf-event/BPF-link fds at that moment.
"""
import os
import secrets
import shutil
import tempfile

import benchlib as bl

TOOLS = ("execsnoop", "opensnoop", "runqlat", "biolatency")


def impls(tool, env_bcc):
    """(label, argv, env-extra, kind) for each implementation of `tool`."""
    pybcc = bl.pybcc_command()     # as installed (benchlib.installed)
    out = [("pybcc cold", pybcc + [tool], {}, "cold"),
           ("pybcc warm", pybcc + [tool], {}, "warm"),
           ("libbpf-tools", [f"/usr/sbin/{tool}"], {}, "other")]
    bt = os.path.join(bl.HERE, "bpftrace", tool + ".bt")
    if tool in ("execsnoop", "opensnoop"):
        out.append(("bpftrace", ["bpftrace", bt] + (["0"] if tool == "opensnoop" else []), {}, "other"))
    out.append((f"bcc ({tool}-bpfcc)", [f"/usr/sbin/{tool}-bpfcc"], env_bcc, "other"))
    if tool == "opensnoop":
        out.append(("bcc (tracepoint script)", ["/usr/bin/python3",
                    os.path.join(bl.HERE, "scripts", "bcc_opensnoop_tp.py")], env_bcc, "other"))
    return out


def pybcc_has(tool):
    return os.path.exists(os.path.join(bl.REPO, "pybcc", "tools", tool + ".py"))


def marker_for(tool, token, workdir):
    """-> (match(line), trigger(), check_fds)"""
    if tool == "execsnoop":
        def trigger():
            pid = os.posix_spawn("/bin/true", ["/bin/true", token], {})
            os.waitpid(pid, 0)
        return (lambda line: token in line), trigger, False
    if tool == "opensnoop":
        path = os.path.join(workdir, "marker-" + token)
        open(path, "w").close()

        def trigger():
            os.close(os.open(path, os.O_RDONLY))
        return (lambda line: token in line), trigger, False
    # histogram tools: their "Tracing ..." line, printed after attaching
    return (lambda line: line.startswith("Tracing")), None, True


def run(reps, env_bcc, log, tools=TOOLS):
    """-> {tool: {label: [Result, ...]}}"""
    results = {}
    workdir = tempfile.mkdtemp(prefix="pybcc-bench-start-")
    try:
        for tool in tools:
            results[tool] = {}
            rows = impls(tool, env_bcc)
            failed = set()
            for rep in range(reps):
                cache = tempfile.mkdtemp(prefix="pybcc-bench-cache-")
                for label, argv, extra, kind in rows:
                    if label in failed:
                        continue
                    if kind in ("cold", "warm") and not pybcc_has(tool):
                        results[tool].setdefault(label, [])
                        failed.add(label)
                        continue
                    env = dict(os.environ, **extra)
                    if kind in ("cold", "warm"):
                        env["PYBCC_CACHE_DIR"] = cache
                    token = "pbm" + secrets.token_hex(6)
                    match, trigger, check = marker_for(tool, token, workdir)
                    r = bl.run_until_marker(argv, env, match, trigger, check_fds=check,
                                            timeout=90 if "bcc" in label else 60)
                    results[tool].setdefault(label, []).append(r)
                    log(f"  start-up {tool:10} {label:26} rep {rep + 1}: "
                        f"ready={r.ready if r.ready is None else round(r.ready, 3)} "
                        f"cpu={r.cpu:.3f} rss={r.rss_mb:.1f}MB {r.error or ''} {r.note}")
                    if r.ready is None:
                        failed.add(label)
                shutil.rmtree(cache, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def report(results, targets):
    """Markdown for the start-up section; appends pass/fail lines to targets."""
    md = []
    for tool, by_label in results.items():
        warm = by_label.get("pybcc warm") or []
        cold = by_label.get("pybcc cold") or []
        w_wall, w_cpu, w_rss = (bl.med([r.ready for r in warm]), bl.med([r.cpu for r in warm]),
                                bl.med([r.rss_mb for r in warm]))
        c_wall = bl.med([r.ready for r in cold])
        rows = []
        notes = []
        for label, rs in by_label.items():
            if not rs:
                rows.append([label, "not available", "", "", "", "", ""])
                continue
            ok = [r for r in rs if r.ready is not None]
            if not ok:
                rows.append([label, "**fails**", "", "", "", "", ""])
                notes.append(f"- {label}: `{rs[0].error}`")
                continue
            wall, cpu, rss = bl.med([r.ready for r in ok]), bl.med([r.cpu for r in ok]), \
                bl.med([r.rss_mb for r in ok])
            is_pybcc = label.startswith("pybcc")
            rows.append([label, bl.fmt([r.ready for r in ok]), bl.fmt([r.cpu for r in ok]),
                         bl.fmt([r.rss_mb for r in ok], 1),
                         "" if is_pybcc else f"{bl.ratio(w_wall, wall)} / {bl.ratio(w_cpu, cpu)} / {bl.ratio(w_rss, rss)}",
                         "" if is_pybcc else bl.ratio(c_wall, wall),
                         f"{len(ok)}/{len(rs)}"])
            fd_notes = sorted({r.note for r in ok if r.note})
            if fd_notes:
                notes.append(f"- {label}: " + "; ".join(fd_notes))
        md.append(f"### {tool}\n")
        md.append(bl.table(["implementation", "attached after, s (wall)", "CPU s (user+sys)",
                            "peak RSS MB", "pybcc warm / this (wall / CPU / RSS)",
                            "pybcc cold / this (wall)", "runs ok"], rows))
        if notes:
            md.append("\n" + "\n".join(notes))
        md.append("")
        if warm and w_cpu is not None:
            targets.append((f"{tool}: warm start ≤ 0.3 s CPU", w_cpu <= 0.3, f"{w_cpu:.3f} s"))
            targets.append((f"{tool}: warm start ≤ 40 MB peak RSS", w_rss <= 40, f"{w_rss:.1f} MB"))
        if cold and c_wall is not None:
            c_cpu = bl.med([r.cpu for r in cold])
            targets.append((f"{tool}: cold start ≤ 1.5 s (wall)", c_wall <= 1.5,
                            f"{c_wall:.2f} s wall, {c_cpu:.2f} s CPU"))
    return "\n".join(md)
