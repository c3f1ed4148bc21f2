"""@record behaves as the @dataclass it stands for: same constructor, equality, hash, repr, frozenness,
and the dataclasses functions (fields, replace, asdict) work on it."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import FrozenInstanceError, asdict, dataclass, field, fields, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from akslbctl.records import record


def twins(frozen: bool):
    """The same class body as a dataclass and as a record."""

    def body():
        class Shape:
            name: str
            port: int = 80
            tags: tuple[str, ...] = ()
            items: list[int] | tuple[int, ...] = field(default_factory=tuple if frozen else list)
            note: str | None = field(default=None, compare=False)
            secret: str = field(default="", repr=False)

        return Shape

    return dataclass(frozen=frozen)(body()), record(frozen=frozen)(body())


@pytest.mark.parametrize("frozen", [True, False])
def test_constructor_repr_and_equality_match_dataclass(frozen):
    dc, rc = twins(frozen)
    for args, kwargs in [
        (("web",), {}),
        (("web", 443), {"tags": ("a",)}),
        ((), {"name": "x", "items": (1, 2), "note": "n", "secret": "s"}),
    ]:
        a, b = dc(*args, **kwargs), rc(*args, **kwargs)
        assert repr(a) == repr(b)
        assert asdict(a) == asdict(b)
        assert (rc(*args, **kwargs) == b) is True
    assert rc("a", note="x") == rc("a", note="y")  # compare=False
    assert rc("a") != rc("b")
    assert rc("a").__eq__(dc("a")) is NotImplemented
    with pytest.raises(TypeError):
        rc()  # the required field
    with pytest.raises(TypeError):
        rc("a", nope=1)
    assert [f.name for f in fields(rc)] == [f.name for f in fields(dc)]
    assert dataclasses.is_dataclass(rc("a"))


def test_default_factory_gives_each_instance_its_own():
    _, rc = twins(False)
    a, b = rc("a"), rc("b")
    a.items.append(1)
    assert b.items == []


def test_frozen_refuses_assignment_and_hashes_like_dataclass():
    dc, rc = twins(True)
    obj = rc("web", 80, ("t",))
    with pytest.raises(FrozenInstanceError):
        obj.port = 1
    with pytest.raises(FrozenInstanceError):
        del obj.name
    with pytest.raises(FrozenInstanceError):
        obj.other = 1  # not a field either: frozen dataclasses refuse it too
    assert hash(obj) == hash(rc("web", 80, ("t",), note="other"))
    assert {obj: 1}[rc("web", 80, ("t",))] == 1
    assert replace(obj, port=443) == rc("web", 443, ("t",))
    assert copy.deepcopy(obj) == obj


def test_plain_record_is_unhashable_and_mutable_as_a_dataclass():
    _, rc = twins(False)
    obj = rc("web")
    obj.port = 8080
    assert obj.port == 8080
    with pytest.raises(TypeError):
        hash(obj)


def test_post_init_runs_and_subclasses_keep_their_own_fields():
    @record(frozen=True)
    class Base:
        a: int
        b: int = 2

        def __post_init__(self):
            if self.a < 0:
                raise ValueError("negative")

    @record(frozen=True)
    class Child(Base):
        c: str = "c"

    assert Child(1) == Child(1, 2, "c")
    assert repr(Child(1)) == "test_post_init_runs_and_subclasses_keep_their_own_fields.<locals>.Child(a=1, b=2, c='c')"
    with pytest.raises(ValueError):
        Child(-1)
    assert Base(1) != Child(1)  # different classes are never equal, as with dataclasses


def test_refuses_what_it_does_not_implement():
    with pytest.raises(TypeError, match="non-default argument"):

        @record
        class Bad:
            a: int = 1
            b: int

    with pytest.raises(TypeError, match="init=False"):

        @record
        class NoInit:
            a: int = field(default=1, init=False)


def test_explicit_methods_are_kept():
    @record(frozen=True)
    class Custom:
        a: int

        def __repr__(self):
            return "custom"

        def __hash__(self):
            return 7

    assert repr(Custom(1)) == "custom"
    assert hash(Custom(1)) == 7


values = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.tuples(st.integers()))


@given(st.lists(st.tuples(values, values, values), min_size=1, max_size=6))
def test_equality_and_hash_agree_with_dataclass(rows):
    @dataclass(frozen=True)
    class D:
        a: object
        b: object = None
        c: object = None

    @record(frozen=True)
    class R:
        a: object
        b: object = None
        c: object = None

    for x in rows:
        for y in rows:
            assert (R(*x) == R(*y)) == (D(*x) == D(*y))
            if R(*x) == R(*y):
                assert hash(R(*x)) == hash(R(*y))
        assert repr(R(*x)).replace("R(", "D(", 1).split(".")[-1] == repr(D(*x)).split(".")[-1]


def _package_records():
    import importlib.util
    from pathlib import Path

    from akslbctl import records

    spec = importlib.util.spec_from_file_location("regen", Path(__file__).parents[2] / "scripts" / "regen.py")
    regen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(regen)
    regen.import_package()
    return [(cls, f, frozen) for cls, f, frozen in records.REGISTRY if "<locals>" not in cls.__qualname__]


def test_every_record_of_the_package_has_its_init_compiled_ahead():
    from akslbctl import records

    missing = []
    for cls, fields_, frozen in _package_records():
        source, scope = records.init_source(cls, fields_, frozen)
        if records._ahead(f"{cls.__module__}.{cls.__qualname__}", source, scope) is None:
            missing.append(cls.__qualname__)
    assert not missing, f"run 'python scripts/regen.py': {missing}"


def test_an_init_compiled_ahead_behaves_as_the_one_compiled_here():
    from akslbctl import records
    from akslbctl.model.kube import Node, Taint

    source, scope = records.init_source(Node, [f for f in fields(Node)], True)
    ahead = records._ahead("akslbctl.model.kube.Node", source, dict(scope))
    here_scope = dict(scope)
    exec(source, here_scope)
    here = here_scope["__init__"]
    for args, kwargs in [(("n0",), {}), (("n1", ("10.0.0.4",)), {"labels": {"a": "b"}, "taints": (Taint("k"),)})]:
        a, b = object.__new__(Node), object.__new__(Node)
        ahead(a, *args, **kwargs)
        here(b, *args, **kwargs)
        assert a == b
        if "labels" not in kwargs:
            assert a.labels == {} and a.labels is not b.labels  # each call its own default dict
    with pytest.raises(TypeError):
        ahead(object.__new__(Node))  # name is required, as in the compiled one
    with pytest.raises(FrozenInstanceError):
        Node("n").name = "m"


def test_a_class_whose_source_changed_compiles_its_own_init():
    from akslbctl import records

    assert records._ahead("akslbctl.model.kube.Node", "def __init__(self):\n    pass\n", {}) is None

    @record(frozen=True)
    class Node:  # the same name as the model's, other fields: not the model's __init__
        colour: str = "red"

    assert Node().colour == "red" and Node("blue").colour == "blue"
