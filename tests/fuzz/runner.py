"""Run one fuzz target for a while with hypothesis; collect findings."""
import os
import time
import traceback

from hypothesis import HealthCheck, Phase, given, settings

from targets import save_finding

BATCH = 40        # examples per hypothesis run; the clock is checked between runs


def _where(err):
    """file:line of the innermost pybcc frame of an exception (for de-duplication)."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if "/pybcc/" in f.filename]
    f = frames[-1] if frames else traceback.extract_tb(err.__traceback__)[-1]
    return f"{os.path.relpath(f.filename)}:{f.lineno}"


def fuzz(target, seconds, keep=False):
    """Fuzz ``target`` for ``seconds``. Returns {"executions", "findings":
    [{"error", "where", "file"}]}; with ``keep`` each new finding's (shrunk)
    input is saved under tests/data/fuzz/."""
    stats = {"executions": 0, "findings": []}
    seen = set()
    last = {}

    def body(value):
        stats["executions"] += 1
        try:
            target.run(value)
        except Exception as e:
            last["value"], last["error"] = value, e
            raise

    test = settings(max_examples=BATCH, deadline=None, database=None, derandomize=False,
                    phases=[Phase.generate, Phase.shrink],
                    suppress_health_check=list(HealthCheck))(given(target.strategy())(body))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            test()
        except Exception:
            err = last.get("error")
            if err is None:
                raise
            key = (type(err).__name__, _where(err))
            if key not in seen:
                seen.add(key)
                stats["findings"].append({
                    "error": f"{type(err).__name__}: {str(err)[:200]}", "where": key[1],
                    "file": save_finding(target, last["value"]) if keep else None,
                    "value": last["value"]})
            last.clear()
    return stats
