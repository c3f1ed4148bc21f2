"""The JSON writer is json.dumps(indent=2, ensure_ascii=False), byte for byte (issue 14: it is faster)."""

from __future__ import annotations

import enum
import json

import pytest

from akslbctl.render.document import to_json


class Level(enum.IntEnum):
    LOW = 1


class Name(str):
    pass


DOCS = [
    {},
    [],
    {"a": [], "b": {}, "c": [{}], "d": [[]]},
    {"s": "plain", "u": "ü — ✓ 日本"},
    {"esc": 'q"' + chr(92) + chr(10) + chr(9) + chr(0) + chr(27) + "[31m" + chr(0x202E)},
    {"surrogate": chr(0xD800), "del": chr(127), "c1": chr(0x85)},
    {"i": 0, "n": -12, "big": 10**30, "f": 0.1, "e": 1e-7, "g": 1e22, "neg": -0.0, "nan": float("nan")},
    {"inf": float("inf"), "minf": float("-inf"), "t": True, "f": False, "z": None},
    {"tuple": (1, "x", (2, None)), "enum": Level.LOW, "sub": Name("n")},
    {3: "int key", 2.5: "float key", True: "bool key", None: "none key"},
    [1, [2, [3, [4, {"deep": [None]}]]]],
    "top-level string",
    42,
]


@pytest.mark.parametrize("doc", DOCS)
def test_same_bytes_as_json_dumps(doc) -> None:
    assert to_json(doc) == json.dumps(doc, indent=2, ensure_ascii=False)


def test_unserialisable_is_a_type_error_as_with_json() -> None:
    with pytest.raises(TypeError):
        to_json({"x": object()})
    with pytest.raises(TypeError):
        to_json({(1, 2): "tuple key"})


@pytest.mark.parametrize("doc", DOCS)
def test_same_bytes_without_the_c_encoder(doc, monkeypatch) -> None:
    # Leaf containers go through the standard library's C encoder when it is built; the Python path
    # alone writes the same bytes.
    from akslbctl.render import document

    monkeypatch.setattr(document, "_make_encoder", None)
    assert to_json(doc) == json.dumps(doc, indent=2, ensure_ascii=False)


def test_leaf_containers_at_every_depth() -> None:
    doc = {"a": {"b": {"c": [1, 2.5, "x", None, True]}, "d": ["é", "\u202e"]}, "e": [{"f": 1}, {"g": [3]}]}
    assert to_json(doc) == json.dumps(doc, indent=2, ensure_ascii=False)
