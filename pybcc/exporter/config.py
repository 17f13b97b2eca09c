"""The exporter's YAML config: parsed with line numbers, checked up front.

Every problem is reported as ``FILE:LINE: reason`` (ConfigError), so a bad
config fails at start, or on reload leaves the running config in place.

    listen: 127.0.0.1:9435        # --listen overrides
    web_config: /etc/pybcc/web.yml  # optional: TLS and basic auth
    max_series: 2000              # per metric, unless a set says otherwise
    sets:                         # built-in metric sets, by name
      block_io: {}
      syscalls: {by_cgroup: true, cgroup_regex: "^/system.slice/"}
      process: {top_comm: 20}
    programs:                     # custom BPF programs (see custom.py)
      - name: myprog
        source: my.bpf.c
        metrics: {counters: [...], histograms: [...]}
"""
import yaml


class ConfigError(Exception):
    """A config problem, as 'file:line: reason'."""


class _Node(dict):
    """A mapping that remembers its line and each key's line."""
    line = 0
    key_lines = None


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader, node):
    loader.flatten_mapping(node)
    m = _Node()
    m.line = node.start_mark.line + 1
    m.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in m:
            raise ConfigError(f"{loader.name}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
        m[key] = loader.construct_object(value_node, deep=True)
        m.key_lines[key] = key_node.start_mark.line + 1
    return m


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class Where:
    """Builds 'file:line: reason' messages for values of a parsed config."""

    def __init__(self, path):
        self.path = path

    def error(self, node, key, reason):
        line = 0
        if isinstance(node, _Node):
            line = (node.key_lines or {}).get(key, node.line) if key is not None else node.line
        return ConfigError(f"{self.path}:{line}: {reason}")


def parse(path):
    """The config at ``path`` as nested dicts (with line numbers)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config: {e.strerror}") from None
    try:
        loader = _LineLoader(text)
        loader.name = path
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 0
        raise ConfigError(f"{path}:{line}: {e.problem or e.context}") from None
    if data is None:
        data = _Node()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the config must be a mapping (listen:, sets:, programs:)")
    return data


TOP_KEYS = {"listen", "web_config", "max_series", "sets", "programs"}


def check_keys(where, node, allowed, what):
    """Unknown keys are errors (a typo must not silently disable something)."""
    if not isinstance(node, dict):
        raise where.error(node, None, f"{what} must be a mapping")
    for key in node:
        if key not in allowed:
            raise where.error(node, key, f"unknown key {key!r} in {what} "
                                         f"(allowed: {', '.join(sorted(allowed))})")


def get(where, node, key, kind, default=None, check=None, what=None):
    """node[key] checked to be of ``kind`` (and pass ``check``, a
    callable returning an error text or None)."""
    if key not in node:
        return default
    value = node[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        value = None       # YAML's yes/no is not a number or a string
    if not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise where.error(node, key, f"{what or key}: expected {names}, got {node[key]!r}")
    problem = check(value) if check else None
    if problem:
        raise where.error(node, key, f"{what or key}: {problem}")
    return value


def positive(v):
    return None if v > 0 else "must be > 0"


def load(path):
    """Parse and check the top level; returns (where, data). The sets and
    programs check their own sections (sets.configure, custom.configure)."""
    data = parse(path)
    where = Where(path)
    check_keys(where, data, TOP_KEYS, "the config")
    get(where, data, "listen", str)
    get(where, data, "web_config", str)
    get(where, data, "max_series", int, check=positive)
    sets = get(where, data, "sets", (dict, list), default={})
    if isinstance(sets, list):
        # `sets: [block_io, tcp]` is short for each with no options
        for item in sets:
            if not isinstance(item, str):
                raise where.error(data, "sets", f"sets: expected set names, got {item!r}")
    get(where, data, "programs", list, default=[])
    return where, data
