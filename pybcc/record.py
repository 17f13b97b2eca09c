"""Plain record classes, as @dataclasses.dataclass makes them, but cheap to define.

The classes a tool's start touches (specs, BTF types, instructions, the
tools' registry) are records. `dataclasses` costs a start ~10 ms to import
(it imports `inspect`, hence `ast`, `dis`, `tokenize`) and ~0.5 ms per
class; this module makes the same classes -- fields from the annotations
in order, defaults, ``field(default_factory=...)``, an ``__init__``,
``__repr__`` and ``__eq__``, ``frozen`` ones hashable and read-only -- for
a few µs each, and ``replace()`` copies one with some fields changed.
Instances pickle as any plain object does (their ``__dict__``).
"""

_MISSING = object()


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make):
        self.make = make


def field(default_factory):
    """A field whose default is ``default_factory()``, made anew for each record."""
    return _Factory(default_factory)


def _fields(cls):
    """Field names in order (a base's first) and their defaults."""
    names, defaults = [], {}
    for klass in reversed(cls.__mro__):
        defaults.update(klass.__dict__.get("__record_defaults__", {}))
        for name in klass.__dict__.get("__annotations__", {}):
            if name not in names:
                names.append(name)
            if name in klass.__dict__:
                defaults[name] = klass.__dict__[name]
    return names, defaults


class _FrozenError(AttributeError):
    pass


def _frozen_setattr(self, name, value):
    raise _FrozenError(f"cannot assign to field {name!r} of frozen {type(self).__name__}")


def record(cls=None, *, frozen=False):
    """Decorate a class with annotated fields into a record (see module doc)."""
    if cls is None:
        return lambda c: record(c, frozen=frozen)
    names, defaults = _fields(cls)
    scope = {"_object_setattr": object.__setattr__, "_MISSING": _MISSING}
    factories, argdefs = [], []
    for i, name in enumerate(names):
        default = defaults.get(name, _MISSING)
        if isinstance(default, _Factory):
            scope[f"_make{i}"] = default.make
            factories.append(i)
            argdefs.append(_MISSING)
            if name in cls.__dict__:
                delattr(cls, name)
        elif default is not _MISSING:
            argdefs.append(default)
        elif argdefs:
            raise TypeError(f"{cls.__name__}: field {name} without a default follows one with a default")
    rename = _renames(names)
    init = _specialised(_init_template(len(names), tuple(factories), frozen), rename, cls, "__init__")
    cls.__init__ = _FunctionType(init, scope, "__init__", tuple(argdefs) or None)
    cls.__record_fields__ = tuple(names)
    cls.__record_defaults__ = defaults
    if "__repr__" not in cls.__dict__:
        cls.__repr__ = _repr
    if "__eq__" not in cls.__dict__:
        cls.__eq__ = _first_eq(cls, len(names), rename)
        if frozen:
            cls.__hash__ = _hash
        elif "__hash__" not in cls.__dict__:
            cls.__hash__ = None      # mutable and compared by value: unhashable, as dataclasses do
    if frozen:
        cls.__setattr__ = _frozen_setattr
        cls.__delattr__ = _frozen_setattr
    return cls


# A record's __init__ and __eq__ are specialised code (records are made and
# compared by the 100k: the kernel's BTF), but compiling it per class cost
# each start ~0.25 ms per record class (~25 on a tool's path). So the code is
# compiled once per shape -- the number of fields, which have factories,
# frozen or not -- with placeholder names (_pN parameters, _fN attributes),
# and each class gets a copy with its own names put in (code.replace).
#
# Compiling a shape still costs ~0.2 ms (~14 shapes on a tool's path), so
# `pybcc TOOL` keeps the code of the shapes met in pybcc's cache (marshal, per
# Python build, as a .pyc keeps a module's; pybcc/cli.py reads and stores it,
# this layer is below the cache's) and hands it here with use_templates();
# each is checked against its source before use.
_FunctionType = type(_fields)
_templates = {}             # {shape: (source, code)}
_templates_added = False


def _compiled(key, src, name):
    global _templates_added
    found = _templates.get(key)
    if found is not None and found[0] == src:
        return found[1]
    scope = {}
    exec(compile(src, "<record>", "exec"), scope)
    code = scope[name].__code__
    _templates[key] = (src, code)
    _templates_added = True
    return code


def use_templates(stored):
    """Take record code compiled by an earlier process ({shape: (source, code)})."""
    if isinstance(stored, dict):
        for key, value in stored.items():
            _templates.setdefault(key, value)


def new_templates():
    """All the record code known, if this process compiled any (to store), else None."""
    global _templates_added
    if not _templates_added:
        return None
    _templates_added = False
    return dict(_templates)


def _init_template(n, factories, frozen):
    body = []
    for i in range(n):
        value = f"_make{i}() if _p{i} is _MISSING else _p{i}" if i in factories else f"_p{i}"
        body.append(f"_object_setattr(self, '_f{i}', {value})" if frozen else f"self._f{i} = {value}")
    params = "".join(f", _p{i}" for i in range(n))
    src = f"def __init__(self{params}):\n    " + ("\n    ".join(body) or "pass") + "\n"
    return _compiled(("init", n, factories, frozen), src, "__init__")


def _eq_template(n):
    mine, theirs = ("".join(f"{who}._f{i}, " for i in range(n)) for who in ("self", "other"))
    src = ("def __eq__(self, other):\n"
           "    if other.__class__ is not self.__class__:\n"
           "        return NotImplemented\n"
           f"    return ({mine}) == ({theirs})\n")
    return _compiled(("eq", n), src, "__eq__")


def _first_eq(cls, n, rename):
    """An __eq__ that makes the class's specialised one at its first call
    (most record classes of a start are never compared)."""
    def __eq__(self, other):
        eq = _FunctionType(_specialised(_eq_template(n), rename, cls, "__eq__"), {}, "__eq__")
        if cls.__dict__.get("__eq__") is __eq__:
            type.__setattr__(cls, "__eq__", eq)    # (a frozen record's own __setattr__ refuses)
        return eq(self, other)
    __eq__.__qualname__ = f"{cls.__qualname__}.__eq__"
    return __eq__


def _renames(names):
    rename = {}
    for i, name in enumerate(names):
        rename[f"_p{i}"] = rename[f"_f{i}"] = name
    return rename


def _specialised(code, rename, cls, method):
    """``code`` with the placeholders _pN and _fN renamed to field N's name."""
    get = rename.get
    return code.replace(
        co_varnames=tuple([get(v, v) for v in code.co_varnames]),
        co_names=tuple([get(v, v) for v in code.co_names]),
        co_consts=tuple([get(c, c) if type(c) is str else c for c in code.co_consts]),
        co_qualname=f"{cls.__qualname__}.{method}")


def _values(obj):
    return tuple(getattr(obj, name) for name in obj.__record_fields__)


def _repr(self):
    return f"{type(self).__qualname__}(" + ", ".join(
        f"{name}={getattr(self, name)!r}" for name in self.__record_fields__) + ")"


def _hash(self):
    return hash(_values(self))


def replace(obj, **changes):
    """A copy of record ``obj`` with ``changes`` applied (dataclasses.replace)."""
    for name in changes:
        if name not in obj.__record_fields__:
            raise TypeError(f"{type(obj).__name__} has no field {name!r}")
    values = {name: changes.get(name, getattr(obj, name)) for name in obj.__record_fields__}
    return type(obj)(**values)


def is_record(obj):
    return hasattr(type(obj), "__record_fields__")
