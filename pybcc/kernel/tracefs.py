"""tracefs: where it is, tracepoint ids and formats, dynamic probe events.

Dynamic kprobe/uprobe events written here outlive the process that created
them, so they are only a fallback for kernels without the kprobe/uprobe PMU.
Their names carry the creator's pid so that stale ones can be removed later
(remove_stale_probe_events).
"""
import ctypes
import fnmatch
import functools
import os
import re

from ..errors import AttachError, BPFError, FormatError
from ..record import record

_CANDIDATES = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")

# Group of every probe event pybcc creates; names are <kind>_<pid>_<seq>_<what>.
GROUP = "pybcc"
_NAME_RE = r"^[pr]_(\d+)_\d+_"        # patterns compiled on first use, not at import
_seq = 0


class TracepointNotFound(AttachError):
    """The named tracepoint ("cat:name") does not exist on this kernel. The
    message, with close names to suggest, is made when shown: tools that
    try optional tracepoints catch this, and suggesting costs ~0.2 s."""

    def __init__(self, full):
        self.full, self._text = full, None
        super().__init__(f"tracepoint {full} does not exist on this kernel")

    @property
    def message(self):
        if self._text is None:
            self._text = _with_suggestions(self.full)
        return self._text

    @message.setter
    def message(self, value):      # BPFError.__init__'s; the text is made when shown
        pass


@functools.lru_cache(maxsize=None)
def mount_point():
    """The tracefs directory, mounting tracefs if it is not mounted yet."""
    for path in _CANDIDATES:
        if os.path.isdir(os.path.join(path, "events")):
            return path
    libc = ctypes.CDLL(None, use_errno=True)
    target = _CANDIDATES[0]
    if libc.mount(b"nodev", target.encode(), b"tracefs", 0, None) != 0:
        raise BPFError(f"tracefs is not mounted and mounting it on {target} failed "
                       f"(mount -t tracefs nodev {target})", ctypes.get_errno())
    return target


def path(*parts):
    return os.path.join(mount_point(), *parts)


def split_name(category, name):
    """Accept ("cat", "name") or ("cat:name", None)."""
    if name is None:
        if ":" not in category:
            raise ValueError(f"tracepoint {category!r} should be written CATEGORY:NAME")
        category, name = category.split(":", 1)
    return category, name


def list_tracepoints(pattern=None):
    """All tracepoints as "category:name", optionally filtered by an fnmatch pattern."""
    names = _all_tracepoints()
    if pattern is None:
        return names
    return [full for full in names if fnmatch.fnmatchcase(full, pattern)]


def _all_tracepoints():
    """available_events (one read), plus the ftrace category it leaves out;
    the events directory walked (~2,500 stats) only if that file is unreadable."""
    try:
        with open(path("available_events")) as f:
            names = set(f.read().split())
        names.update(_scan_events(only="ftrace"))
    except OSError:
        names = _scan_events()
    return sorted(names, key=lambda full: full.split(":", 1))


def _scan_events(only=None):
    out = []
    events = path("events")
    for cat in ([only] if only else os.listdir(events)):
        cdir = os.path.join(events, cat)
        if not os.path.isdir(cdir):
            continue
        for name in os.listdir(cdir):
            if os.path.isfile(os.path.join(cdir, name, "id")):
                out.append(f"{cat}:{name}")
    return out


def tracepoint_exists(category, name=None):
    category, name = split_name(category, name)
    return os.path.isfile(path("events", category, name, "id"))


def _with_suggestions(full):
    import difflib  # only to suggest names after a miss
    msg = f"tracepoint {full} does not exist on this kernel"
    try:
        close = difflib.get_close_matches(full, list_tracepoints(), n=5, cutoff=0.6)
    except (OSError, BPFError):
        close = []
    if close:
        return msg + "; did you mean " + ", ".join(close) + "?"
    return msg + f" (see {path('available_events')})"


def _not_found(category, name):
    return TracepointNotFound(f"{category}:{name}")


def _read_event_file(category, name, what):
    """events/CAT/NAME/WHAT as text; a missing tracepoint raises TracepointNotFound."""
    category, name = split_name(category, name)
    try:
        with open(path("events", category, name, what)) as f:
            return f.read()
    except FileNotFoundError:
        raise _not_found(category, name) from None


def tracepoint_id(category, name=None):
    """The perf event id of a tracepoint (events/CAT/NAME/id)."""
    return int(_read_event_file(category, name, "id"))


@record
class Field:
    name: str
    type: str          # C type without the name, e.g. "char[16]", "const char *"
    offset: int
    size: int
    signed: bool
    data_loc: bool = False   # __data_loc: a u32 (len << 16 | offset) to the data
    array_len: int = 0       # fixed array length, 0 when not an array


@record
class TracepointFormat:
    name: str
    id: int
    fields: list       # list of Field, common_* fields included
    print_fmt: str

    @property
    def own_fields(self):
        """Fields without the common_* header every tracepoint shares."""
        return [f for f in self.fields if not f.name.startswith("common_")]


_FIELD_RE = r"field:(.*?);\s*offset:(\d+);\s*size:(\d+);\s*(?:signed:(-?\d+);)?"


def _parse_decl(decl):
    """"char prev_comm[16]" → (name, type, array_len, data_loc)."""
    decl = decl.strip()
    data_loc = decl.startswith("__data_loc ")
    if data_loc:
        decl = decl[len("__data_loc "):]
    array_len = 0
    suffix = ""
    m = re.search(r"\[(\w*)\]$", decl)
    if m:
        suffix = m.group(0)
        decl = decl[:m.start()]
        if m.group(1).isdigit():
            array_len = int(m.group(1))
    m = re.search(r"(\w+)$", decl)
    if m is None:
        raise FormatError(f"tracepoint format: field {decl!r} has no name")
    name = m.group(1)
    ctype = decl[:m.start()].strip() + suffix
    return name, ctype, array_len, data_loc


def parse_format(text):
    """Parse the text of an events/CAT/NAME/format file."""
    name, tp_id, fields, print_fmt = "", 0, [], ""
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("name:"):
            name = s[5:].strip()
        elif s.startswith("ID:"):
            if not re.fullmatch(r"[0-9]+", s[3:].strip()):
                raise FormatError(f"tracepoint format: bad ID line {s!r}")
            tp_id = int(s[3:])
        elif s.startswith("print fmt:"):
            print_fmt = s[len("print fmt:"):].strip()
        elif s.startswith("field:"):
            m = re.match(_FIELD_RE, s)
            if not m:
                continue
            fname, ctype, alen, dloc = _parse_decl(m.group(1))
            fields.append(Field(fname, ctype, int(m.group(2)), int(m.group(3)),
                                m.group(4) == "1", dloc, alen))
    return TracepointFormat(name, tp_id, fields, print_fmt)


def tracepoint_format(category, name=None):
    return parse_format(_read_event_file(category, name, "format"))


# --- dynamic probe events (fallback when the kprobe/uprobe PMU is missing) ---

def _events_file(kind):
    return path("kprobe_events" if kind == "kprobe" else "uprobe_events")


def has_probe_events(kind):
    """Whether tracefs offers kprobe_events / uprobe_events."""
    return os.path.exists(_events_file(kind))


def _write(kind, line):
    # os.open, not open(..., "a"): Python seeks to the end, which tracefs refuses.
    try:
        fd = os.open(_events_file(kind), os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
    except OSError as e:
        raise BPFError(f"writing {line!r} to {_events_file(kind)}", e.errno) from None


def probe_event_name(retprobe, what):
    """A fresh event name that records this process's pid."""
    global _seq
    _seq += 1
    clean = re.sub(r"[^A-Za-z0-9_]", "_", what)
    return f"{'r' if retprobe else 'p'}_{os.getpid()}_{_seq}_{clean}"[:63]


def add_probe_event(kind, name, target, retprobe=False, maxactive=0):
    """Create GROUP/name probing ``target`` ("func+off" or "/path:0xoff(0xref)").

    Returns the event's tracepoint id."""
    _remove_stale_once()
    prefix = "r" if retprobe else "p"
    if retprobe and maxactive:
        prefix += str(maxactive)
    _write(kind, f"{prefix}:{GROUP}/{name} {target}")
    return tracepoint_id(GROUP, name)


def remove_probe_event(kind, name):
    _write(kind, f"-:{GROUP}/{name}")


def list_probe_events(kind):
    """Names of the GROUP events currently defined for kind."""
    try:
        with open(_events_file(kind)) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        head = line.split(" ", 1)[0]          # "p:pybcc/p_123_1_foo"
        ev = head.split(":", 1)[-1]
        group, _, name = ev.partition("/")
        if group == GROUP:
            out.append(name)
    return out


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def remove_stale_probe_events():
    """Remove pybcc probe events whose creating process is gone; returns their names."""
    removed = []
    for kind in ("kprobe", "uprobe"):
        for name in list_probe_events(kind):
            m = re.match(_NAME_RE, name)
            if m and not _pid_alive(int(m.group(1))):
                try:
                    remove_probe_event(kind, name)
                    removed.append(name)
                except BPFError:
                    pass    # still in use (EBUSY): leave it
    return removed


@functools.lru_cache(maxsize=None)
def _remove_stale_once():
    """Before the first event this process creates, clear what killed ones left."""
    try:
        remove_stale_probe_events()
    except (OSError, BPFError):
        pass
