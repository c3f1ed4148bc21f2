"""The one terminal escape (issue 13 §4): what it changes, what it keeps, and the model walk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import pytest

from akslbctl.render.escape import escape, human, unsafe


@pytest.mark.parametrize(
    "raw,shown",
    [
        ("aks-node\x1b]52;c;Zm9v\x07", "aks-node\\x1b]52;c;Zm9v\\x07"),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("\x9b2J\x85\x7f", "\\x9b2J\\x85\\x7f"),
        ("x\u202eexe.gnp\u2066\u2069", "x\\u202eexe.gnp\\u2066\\u2069"),
        ("line\u2028sep", "line\\u2028sep"),
        ("lone\ud800", "lone\\ud800"),
    ],
)
def test_controls_come_out_visible(raw, shown):
    assert escape(raw) == shown
    assert unsafe(raw) and not unsafe(escape(raw))


@pytest.mark.parametrize("text", ["aks-nodepool1-12345678-vmss000001", "Grüße ünïcödé 名前", "[bold]x[/]", ""])
def test_ordinary_text_is_kept(text):
    assert escape(text) == text and not unsafe(text)


class Pair(NamedTuple):
    a: str
    b: int


@dataclass(frozen=True)
class Inner:
    name: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Outer:
    inner: Inner
    rows: list
    meta: dict
    pair: Pair
    n: int = 3


def test_human_walks_a_frozen_model_and_leaves_the_original_exact():
    bad = "x\x1b[2J"
    model = Outer(Inner(bad, (bad, "ok")), [bad, {bad: bad}], {"k": bad}, Pair(bad, 1))
    shown = human(model)
    assert shown.inner.name == "x\\x1b[2J" and shown.inner.tags == ("x\\x1b[2J", "ok")
    assert shown.rows == ["x\\x1b[2J", {"x\\x1b[2J": "x\\x1b[2J"}]
    assert shown.meta == {"k": "x\\x1b[2J"} and shown.pair == Pair("x\\x1b[2J", 1) and shown.n == 3
    assert isinstance(shown.pair, Pair) and isinstance(shown, Outer)
    assert model.inner.name == bad  # JSON/YAML are rendered from the original: exact
