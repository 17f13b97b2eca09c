"""pybcc.record: the dataclass subset the start-up path uses, without dataclasses."""
import pickle

import pytest

from pybcc.record import field, record, replace


@record
class Base:
    a: int
    items: list = field(default_factory=list)
    b: int = 2


@record
class Derived(Base):
    c: str = "c"


@record(frozen=True)
class Frozen:
    x: int
    y: int = 0


def test_fields_defaults_and_factories():
    one, two = Base(1), Base(1)
    assert (one.a, one.items, one.b) == (1, [], 2)
    one.items.append(5)
    assert two.items == []                      # a new list per record
    assert Base(1, [3], b=4) == Base(a=1, items=[3], b=4) != Base(1)
    assert repr(Derived(1)) == "Derived(a=1, items=[], b=2, c='c')"
    with pytest.raises(TypeError):
        Base()


def test_replace_pickle_and_hashing():
    d = Derived(1, c="x")
    assert replace(d, b=9) == Derived(1, [], 9, "x") and d.b == 2
    assert pickle.loads(pickle.dumps(d)) == d
    with pytest.raises(TypeError):
        replace(d, nope=1)
    with pytest.raises(TypeError):
        hash(d)                                 # mutable records are unhashable
    f = Frozen(1)
    assert {f, Frozen(1)} == {Frozen(1, 0)} and pickle.loads(pickle.dumps(f)) == f
    with pytest.raises(AttributeError):
        f.x = 2


def test_a_field_without_default_after_one_with_is_refused():
    with pytest.raises(TypeError):
        @record
        class Bad:
            a: int = 1
            b: int
