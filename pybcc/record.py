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
    params, body, scope = [], [], {"_object_setattr": object.__setattr__}
    for name in names:
        default = defaults.get(name, _MISSING)
        if isinstance(default, _Factory):
            scope[f"_make_{name}"] = default.make
            params.append(f"{name}=_MISSING")
            value = f"_make_{name}() if {name} is _MISSING else {name}"
            if name in cls.__dict__:
                delattr(cls, name)
        elif default is not _MISSING:
            scope[f"_default_{name}"] = default
            params.append(f"{name}=_default_{name}")
            value = name
        else:
            if any("=" in p for p in params):
                raise TypeError(f"{cls.__name__}: field {name} without a default follows one with a default")
            params.append(name)
            value = name
        body.append(f"_object_setattr(self, {name!r}, {value})" if frozen else f"self.{name} = {value}")
    scope["_MISSING"] = _MISSING
    mine, theirs = ("".join(f"{who}.{n}, " for n in names) for who in ("self", "other"))
    src = (f"def __init__(self, {', '.join(params)}):\n    " + ("\n    ".join(body) or "pass") + "\n"
           "def __eq__(self, other):\n"
           "    if other.__class__ is not self.__class__:\n"
           "        return NotImplemented\n"
           f"    return ({mine}) == ({theirs})\n")
    exec(src, scope)    # specialised methods: records are made and compared by the 100k (kernel BTF)
    for method in ("__init__", "__eq__"):
        scope[method].__qualname__ = f"{cls.__qualname__}.{method}"
    cls.__init__ = scope["__init__"]
    cls.__record_fields__ = tuple(names)
    cls.__record_defaults__ = defaults
    if "__repr__" not in cls.__dict__:
        cls.__repr__ = _repr
    if "__eq__" not in cls.__dict__:
        cls.__eq__ = scope["__eq__"]
        if frozen:
            cls.__hash__ = _hash
        elif "__hash__" not in cls.__dict__:
            cls.__hash__ = None      # mutable and compared by value: unhashable, as dataclasses do
    if frozen:
        cls.__setattr__ = _frozen_setattr
        cls.__delattr__ = _frozen_setattr
    return cls


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
