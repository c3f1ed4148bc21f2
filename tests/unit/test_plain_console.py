"""The plain console writes, byte for byte, what rich's Console writes to a stream with no terminal.

Each case prints the same objects with the same options through both, to streams that are no
terminal, and compares what reached them: wrapped and folded words, wide and combining characters,
tabs, lines cropped at the width, separators, ends, empty prints; and what the plain console hands
to rich (an alignment, a style for the whole print, a tree).
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from akslbctl.render.plain import PlainConsole, colourless


def _rich(stream: io.StringIO, width: int) -> Console:
    # As cli.common.Terminal.console builds it for a stream that is no terminal.
    return Console(
        file=stream,
        no_color=False,
        highlight=False,
        width=width,
        soft_wrap=False,
        emoji=False,
        markup=False,
        _environ={},
    )


def both(width: int, *objects, **options) -> tuple[str, str]:
    real, plain = io.StringIO(), io.StringIO()
    _rich(real, width).print(*objects, **options)
    console = PlainConsole(plain, width, lambda: _rich(plain, width))
    console.print(*objects, **options)
    return real.getvalue(), plain.getvalue()


def styled(*parts: tuple[str, str | None]) -> Text:
    t = Text()
    for text, style in parts:
        t.append(text, style=style)
    return t


LONG = "The load balancer probes every node of the backend pool on its health probe port, every five seconds."
TEXTS = [
    Text(""),
    Text("one line"),
    Text(LONG),
    Text(LONG, style="bold red"),
    styled(("NODE  ", "bold"), ("aks-nodepool1-12345678-vmss000000", None), ("  down", "red")),
    Text("a" * 130),  # one word longer than the line: folded
    Text("x " * 70),  # trailing spaces at each break
    Text("first\nsecond line that is rather long and wraps somewhere past the width\n\nfourth"),
    Text("tab\tseparated\tcolumns\tthat\tgo\ton"),
    Text("節點 名稱 " * 12),  # double-width characters at the break
    Text("e\u0301" * 50 + " cafe\u0301 " * 10),  # combining accents
    Text("ends with a newline\n"),
    Text("   leading spaces and a long tail " + "z" * 90),
]


@pytest.mark.parametrize("width", [20, 40, 79, 120, 1000])
@pytest.mark.parametrize("index", range(len(TEXTS)))
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"overflow": "fold"},
        {"no_wrap": True, "overflow": "ignore", "crop": False},
        {"no_wrap": True, "overflow": "ignore"},
        {"no_wrap": True},
        {"no_wrap": True, "overflow": "ellipsis"},
        {"overflow": "crop"},
        {"end": ""},
        {"crop": False},
        {"justify": "left"},
        {"justify": "full"},
        {"style": "bold"},
    ],
    ids=repr,
)
def test_text_prints_the_same(width, index, options):
    real, plain = both(width, TEXTS[index], **options)
    assert plain == real


@pytest.mark.parametrize("width", [30, 80])
@pytest.mark.parametrize(
    "objects",
    [
        (),
        ("a plain [bold]string[/bold] with :smile: and brackets",),
        (Text("key"), "value", Text("more", style="dim")),
        (Text("note: ", style="dim") + Text(LONG),),
        ("x" * 45, "y" * 45),
    ],
    ids=repr,
)
def test_several_objects_and_strings_print_the_same(width, objects):
    real, plain = both(width, *objects)
    assert plain == real
    real, plain = both(width, *objects, sep=" | ", end="$\n")
    assert plain == real


def test_what_rich_lays_out_goes_to_rich_on_the_same_stream_in_order():
    stream, made = io.StringIO(), []

    def make():
        made.append(1)
        return _rich(stream, 40)

    console = PlainConsole(stream, 40, make)
    console.print(Text("before"))
    assert made == []  # a Text needs no rich console
    tree = Tree("root")
    tree.add("leaf")
    console.print(tree)
    console.print(Text("after"))
    reference = io.StringIO()
    r = _rich(reference, 40)
    r.print(Text("before"))
    r.print(tree)
    r.print(Text("after"))
    assert stream.getvalue() == reference.getvalue()
    assert made == [1]


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize(
    ("tty", "environ", "expected"),
    [
        (False, {}, True),
        (True, {}, False),
        (False, {"FORCE_COLOR": "1"}, False),
        (False, {"FORCE_COLOR": ""}, True),
        (False, {"TTY_COMPATIBLE": "1"}, False),
        (False, {"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"}, True),
        (True, {"TTY_COMPATIBLE": "0"}, False),
        (False, {"NO_COLOR": "1"}, True),
    ],
)
def test_colourless_agrees_with_rich(tty, environ, expected):
    stream = _Stream(tty)
    assert colourless(stream.isatty(), environ) is expected
    console = Console(file=stream, _environ=environ)
    rich_plain = not console.is_terminal or console.color_system is None
    if not (tty and environ.get("TTY_COMPATIBLE") == "0"):
        assert rich_plain is expected
