"""The picture grid and its SVG/PNG writers on hand-made screens: columns, escaping, the PNG's cap."""

from __future__ import annotations

import io

from akslbctl.render import picture


def _recorder(width: int = 40):
    from rich.console import Console

    return Console(
        record=True, file=io.StringIO(), width=width, force_terminal=True, color_system="truecolor",
        no_color=False, highlight=False, soft_wrap=False, emoji=False, markup=False,
    )


def test_grid_splits_at_double_spaces_and_keeps_columns():
    from rich.text import Text

    rec = _recorder()
    rec.print(Text.assemble("NODE  ", ("down", "bold red"), "   a b"))
    rec.print(Text("  indented 界 x"))
    first, second = picture.grid(rec)
    assert [(r.column, r.text) for r in first] == [(0, "NODE"), (6, "down"), (13, "a b")]
    assert first[1].bold and first[1].fg != picture.FOREGROUND
    # a wide character takes two cells: what follows it sits two columns on
    assert [(r.column, r.text, r.cells) for r in second] == [(2, "indented 界 x", 13)]


def test_svg_escapes_markup_and_has_no_leading_spaces():
    from rich.text import Text

    rec = _recorder()
    rec.print(Text("<b>&amp;  \"x\"</b>"))
    svg = picture.to_svg(picture.grid(rec), title="a <title> & more", columns=40)
    assert "<b>" not in svg and "&lt;b&gt;&amp;amp;" in svg
    assert "<title>a &lt;title&gt; &amp; more</title>" in svg
    assert ">\u00a0" not in svg and "&#160;" not in svg and "> " not in svg


def test_png_is_cut_at_its_line_cap_and_says_so(monkeypatch):
    from PIL import Image
    from rich.text import Text

    rec = _recorder()
    for i in range(12):
        rec.print(Text(f"line {i}"))
    lines = picture.grid(rec)
    full = Image.open(io.BytesIO(picture.to_png(lines, title="t", columns=40)))
    monkeypatch.setattr(picture, "MAX_PNG_LINES", 5)
    cut = Image.open(io.BytesIO(picture.to_png(lines, title="t", columns=40)))
    assert cut.size[0] == full.size[0] and cut.size[1] < full.size[1]
    per_line = (full.size[1] - cut.size[1]) / (12 - 5)
    assert per_line > 10
