"""``explain --tree``, ``--svg FILE`` and ``--png FILE``: the report as a tree, and as a picture to
attach to a ticket (PNG where the ticket system does not show SVG).

The picture is drawn by a second, recording console with colours on, whatever the terminal or
``NO_COLOR`` say about the screen, so it reads the same everywhere; it has the width of the output on
screen. Both files go through the case files' writer (no planted link followed, a device or FIFO
written through, never blocking).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from akslbctl.cli.common import UNWRAPPED, term
from akslbctl.errors import UsageError

PICTURE_SUFFIXES = {"--svg": ".svg", "--png": ".png"}


def check_picture_options(output: str, *, tree: bool, svg: str | None, png: str | None = None) -> None:
    """Refuse impossible combinations before any evidence is collected (exit 2)."""
    if output in ("json", "yaml") and (tree or svg is not None or png is not None):
        flag = "--tree" if tree else "--svg" if svg is not None else "--png"
        raise UsageError(f"{flag} draws the table or tree; it does not go with -o {output}")
    for flag, path in (("--svg", svg), ("--png", png)):
        if path is None:
            continue
        if path in ("", "-"):
            raise UsageError(f"{flag} needs a file name", hint=f"for example: {flag} report{PICTURE_SUFFIXES[flag]}")
        other = "--png" if flag == "--svg" else "--svg"
        if path.lower().endswith(PICTURE_SUFFIXES[other]):
            raise UsageError(
                f"{flag} writes {flag[2:].upper()}, but {path} is named like a {other[2:].upper()} file",
                hint=f"use {other} {path}",
            )
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise UsageError(f"cannot write {path}: folder {folder} does not exist")
    if svg is not None and png is not None and os.path.abspath(svg) == os.path.abspath(png):
        raise UsageError("--svg and --png name the same file")


def show_pictures(
    diagnosis,
    case,
    output: str,
    *,
    tree: bool,
    svg: str | None,
    png: str | None = None,
    all_nodes: bool = False,
    case_file: str | None = None,
    deadline=None,
) -> None:
    """Print the table (or the tree) as usual and, with ``svg`` / ``png``, save the same as a picture."""
    from akslbctl.render.escape import human

    diagnosis, case = human((diagnosis, case))
    if tree:
        from akslbctl.render.tree import render_tree

        def draw(console) -> None:
            render_tree(diagnosis, case, console)
    else:
        from akslbctl.render.table import render_diagnosis

        def draw(console) -> None:
            render_diagnosis(
                diagnosis, console, wide=output == "wide", prog=term().prog, all_nodes=all_nodes, case_file=case_file
            )

    show(draw, svg, title=f"akslbctl explain {diagnosis.service.ref}", png=png, deadline=deadline)


def show(draw: Callable[[object], None], svg: str | None, *, title: str, png: str | None = None, deadline=None) -> None:
    t = term()
    screen = t.console()
    draw(screen)
    if svg is not None or png is not None:
        # A picture drawn where no terminal gives a width (CI, a pipe from cron) gets a screen's worth.
        width = screen.width if screen.width < UNWRAPPED else 120
        save_pictures(draw, svg=svg, png=png, title=title, width=width, deadline=deadline)


def save_pictures(
    draw: Callable[[object], None], *, svg: str | None, png: str | None, title: str, width: int, deadline=None
) -> None:
    """Save what ``draw`` draws as pictures through the case files' writer: no planted link followed, a FIFO
    or device written through within ``deadline`` (the command's), never blocking."""
    import io

    from rich.console import Console

    recorder = Console(
        record=True,
        file=io.StringIO(),
        width=width,
        force_terminal=True,
        color_system="truecolor",
        no_color=False,
        highlight=False,
        soft_wrap=False,
        emoji=False,
        markup=False,
    )
    draw(recorder)
    from akslbctl.render.escape import escape
    from akslbctl.render.picture import grid
    from akslbctl.sources.casefile import write_file

    lines = grid(recorder)
    t = term()
    if svg is not None:
        from akslbctl.render.picture import to_svg

        picture = to_svg(lines, title=title, columns=width).encode("utf-8", "backslashreplace")
        write_file(svg, picture, deadline=deadline)
        t.stderr.write(escape(f"saved the picture as {svg}") + "\n")
    if png is not None:
        data = _png(lines, title=title, columns=width)
        write_file(png, data, deadline=deadline)
        t.stderr.write(escape(f"saved the picture as {png}") + "\n")


def _png(lines, *, title: str, columns: int) -> bytes:
    try:
        from akslbctl.render.picture import find_fonts, to_png
    except ImportError:  # pragma: no cover - Pillow is a dependency; a broken install says so in one line
        raise UsageError("--png needs Pillow, which is not installed", hint="pip install pillow") from None
    fonts = find_fonts()
    if fonts.name is None:
        term().stderr.write(
            "note: no monospace font found (DejaVu Sans Mono, Liberation Mono, Noto Sans Mono, Menlo, Consolas); "
            "the PNG uses Pillow's own font\n"
        )
    from akslbctl.render.picture import MAX_PNG_LINES

    if len(lines) > MAX_PNG_LINES:
        term().stderr.write(
            f"note: the PNG shows the first {MAX_PNG_LINES - 1} of {len(lines)} lines (--svg holds them all)\n"
        )
    return to_png(lines, title=title, columns=columns, fonts=fonts)
