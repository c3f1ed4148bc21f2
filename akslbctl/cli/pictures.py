"""``explain --tree`` and ``--svg FILE``: the report as a tree, and as a picture to attach to a ticket.

The SVG is drawn by a second, recording console with colours on, whatever the terminal or
``NO_COLOR`` say about the screen, so the picture reads the same everywhere; it has the width of the
output on screen.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from akslbctl.cli.common import term
from akslbctl.errors import UsageError


def check_picture_options(output: str, *, tree: bool, svg: str | None) -> None:
    """Refuse impossible combinations before any evidence is collected (exit 2)."""
    if output in ("json", "yaml") and (tree or svg is not None):
        flag = "--tree" if tree else "--svg"
        raise UsageError(f"{flag} draws the table or tree; it does not go with -o {output}")
    if svg is not None:
        if svg in ("", "-"):
            raise UsageError("--svg needs a file name", hint="for example: --svg report.svg")
        folder = os.path.dirname(os.path.abspath(svg))
        if not os.path.isdir(folder):
            raise UsageError(f"cannot write {svg}: folder {folder} does not exist")


def show_pictures(diagnosis, case, output: str, *, tree: bool, svg: str | None, deadline=None) -> None:
    """Print the table (or the tree) as usual and, with ``svg``, save the same as a picture."""
    from akslbctl.render.escape import human

    diagnosis, case = human((diagnosis, case))
    if tree:
        from akslbctl.render.tree import render_tree

        def draw(console) -> None:
            render_tree(diagnosis, case, console)
    else:
        from akslbctl.render.table import render_diagnosis

        def draw(console) -> None:
            render_diagnosis(diagnosis, console, wide=output == "wide")

    show(draw, svg, title=f"akslbctl explain {diagnosis.service.ref}", deadline=deadline)


def show(draw: Callable[[object], None], svg: str | None, *, title: str, deadline=None) -> None:
    t = term()
    screen = t.console()
    draw(screen)
    if svg is not None:
        save_svg(draw, svg, title=title, width=screen.width, deadline=deadline)


def save_svg(draw: Callable[[object], None], path: str, *, title: str, width: int, deadline=None) -> None:
    """Save what ``draw`` draws as an SVG picture at ``path``, through the case files' writer; a FIFO
    or device at ``path`` is written through within ``deadline`` (the command's), never blocking."""
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
    from akslbctl.sources.casefile import write_file

    # The case files' writer: no planted link followed, a device or FIFO written through, never blocking.
    write_file(path, recorder.export_svg(title=title).encode("utf-8", "backslashreplace"), deadline=deadline)
    t = term()
    from akslbctl.render.escape import escape

    t.stderr.write(escape(f"saved the picture as {path}") + "\n")
