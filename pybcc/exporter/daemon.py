"""The exporter daemon: runs the configured sets, serves them, reloads.

Reload (SIGHUP) parses and checks the new config completely first; a bad
one is reported and the running config stays. Then sets whose options are
unchanged keep running (their kernel maps, hence their counters, survive);
changed sets are restarted, removed ones closed, new ones started.
"""
import ctypes
import gc
import signal
import sys
import threading
import time

from prometheus_client.core import CollectorRegistry
from prometheus_client import ProcessCollector

from . import builtin, config, custom, exposition, selfmetrics, server, webconfig
from .metrics import family
from ..errors import BPFError


def log(message):
    print(f"pybcc exporter: {message}", file=sys.stderr, flush=True)


class _SetsCollector:
    """The sets' series as prometheus-client families (the slow path: a
    scrape asking for name[] filtering goes through it)."""
    def __init__(self, daemon):
        self.daemon = daemon

    def collect(self):
        for metric, series in self.daemon.read_sets():
            yield family(metric, series)


def plan(config_path):
    """{set name: RunningSet not started} from a config file (or the
    default sets when there is none), plus the parsed top level.
    Raises ConfigError (file:line: reason)."""
    if config_path is None:
        return {n: builtin.make_set(n, {}) for n in builtin.DEFAULT_SETS}, {}
    where, data = config.load(config_path)
    max_series = data.get("max_series", builtin.DEFAULT_MAX_SERIES)
    sets = data.get("sets", {})
    if isinstance(sets, list):
        sets = {name: {} for name in sets}
    planned = {}
    for name, opts in sets.items():
        opts = opts if opts is not None else {}
        if not isinstance(opts, dict):
            raise where.error(sets, name, f"set {name}: options must be a mapping (or {{}})")
        if name not in builtin.SETS:
            raise where.error(sets, name, f"no metric set {name!r} "
                                          f"(built-in sets: {', '.join(sorted(builtin.SETS))})")
        builtin.check_options(where, name, opts)
        planned[name] = builtin.make_set(name, opts, max_series)
    for node in data.get("programs", []):
        if not isinstance(node, dict):
            raise where.error(data, "programs", "each program must be a mapping (name:, source:, ...)")
        rs = custom.make_program(where, node, max_series)
        if rs.name in planned:
            raise where.error(node, "name", f"program name {rs.name!r} is already a set's name")
        planned[rs.name] = rs
    return planned, data


def _release_memory():
    """Hand back to the OS the heap that loading freed (ELF parsing, BTF,
    relocations): about 3 MB of a ~37 MB RSS with the default sets."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass     # not glibc


class Daemon:
    def __init__(self, config_path):
        self.config_path = config_path
        self.sets = {}              # name -> started RunningSet
        self.failed = {}            # name -> why the kernel could not serve it
        self.collect_seconds = {}
        self.reloads = {"success": 0, "failure": 0}
        self.lock = threading.Lock()
        self.started = time.time()
        self.stats_fd = None
        # registry: everything, through prometheus-client; others: all but the
        # sets, whose text exposition.encode writes (see text())
        self.registry = CollectorRegistry(auto_describe=False)
        self.others = CollectorRegistry(auto_describe=False)
        self.registry.register(_SetsCollector(self))
        own, process = selfmetrics.SelfCollector(self), ProcessCollector(registry=None)
        for registry in (self.registry, self.others):
            registry.register(own)
            registry.register(process)

    def read_sets(self):
        """(metric, series) of every running set, read now; a set whose maps
        cannot be read is logged and skipped."""
        with self.lock:
            for name, rs in sorted(self.sets.items()):
                t0 = time.perf_counter()
                try:
                    read = list(rs.series())
                except BPFError as e:
                    log(f"set {name}: reading its maps failed: {e}")
                    read = []
                self.collect_seconds[name] = time.perf_counter() - t0
                yield from read

    def text(self, encoder, openmetrics):
        """A scrape's body: the sets by exposition.encode, the rest (and
        OpenMetrics' closing # EOF) by prometheus-client's ``encoder``."""
        sets = "".join(exposition.encode(m, s, openmetrics) for m, s in self.read_sets())
        return sets.encode() + encoder(self.others)

    def apply(self, planned):
        """Make the running sets those of ``planned`` (see module doc)."""
        with self.lock:
            for name in list(self.sets):
                new = planned.get(name)
                if new is None or new.options != self.sets[name].options:
                    self.sets.pop(name).close()
            self.failed = {n: e for n, e in self.failed.items() if n in planned}
            for name, rs in planned.items():
                if name in self.sets:
                    continue
                try:
                    self.sets[name] = rs.start()
                    self.failed.pop(name, None)
                    for choices, reason in rs.skipped:
                        log(f"set {name}: optional hook {choices[0]} not attached: {reason}")
                except BPFError as e:
                    reason = str(e).splitlines()[0]
                    self.failed[name] = reason
                    log(f"set {name}: the kernel cannot serve it: {reason}")
        _release_memory()

    def reload(self):
        try:
            planned, _ = plan(self.config_path)
        except config.ConfigError as e:
            self.reloads["failure"] += 1
            log(f"reload failed, keeping the running config: {e}")
            return
        self.apply(planned)
        self.reloads["success"] += 1
        log(f"reloaded: running {', '.join(sorted(self.sets)) or 'no sets'}")

    def close(self):
        with self.lock:
            for rs in self.sets.values():
                rs.close()
            self.sets = {}
        selfmetrics.close_fd(self.stats_fd)
        self.stats_fd = None


def run(config_path, listen=None, web_config=None, bpf_stats=True):
    """Run until SIGINT/SIGTERM; SIGHUP reloads. Returns the exit code."""
    try:
        planned, data = plan(config_path)
        web_path = web_config or data.get("web_config")
        web = webconfig.load(web_path) if web_path else None
        listen = listen or data.get("listen") or server.DEFAULT_LISTEN
        server.parse_listen(listen)
    except (config.ConfigError, server.ListenError) as e:
        log(str(e))
        return 2
    d = Daemon(config_path)
    # Signals set a flag and wake the main thread, which sleeps without a
    # timeout: an always-on daemon should not wake up between scrapes.
    wake = threading.Event()
    got = set()

    def on_signal(signum, _frame):
        got.add(signum)
        wake.set()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    d.stats_fd = selfmetrics.enable_bpf_stats() if bpf_stats else None
    try:
        d.apply(planned)
        if planned and not d.sets:
            log("no metric set could start; exiting")
            return 1
        try:
            httpd = server.serve(d, listen, web)
        except OSError as e:
            log(f"cannot listen on {listen}: {e.strerror or e}")
            return 1
        log(f"serving {', '.join(sorted(d.sets))} on {'https' if web and web.ssl_context else 'http'}"
            f"://{listen}/metrics")
        while not got & {signal.SIGTERM, signal.SIGINT}:
            wake.wait()
            wake.clear()
            if signal.SIGHUP in got:
                got.discard(signal.SIGHUP)
                d.reload()
        httpd.server_close()    # its thread (a daemon) ends with the process
        return 0
    finally:
        d.close()
