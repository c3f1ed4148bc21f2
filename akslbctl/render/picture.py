"""Pictures for tickets: what a renderer printed, as an SVG or a PNG file.

Both are drawn from one grid of styled runs (:func:`grid`), taken from a recording console, so the
picture is exactly the screen: each run sits at its own column, so alignment never depends on how a
viewer measures spaces.

The SVG is self-contained: no web font, no stylesheet or image from anywhere (a ticket viewer may have
no network), a font stack of monospace fonts that viewers have locally, and text runs that neither
start nor end with a space, nor hold two in a row — so no non-breaking spaces are needed, and
librsvg-based viewers (GNOME, many ticket systems' thumbnailers) keep the columns.

The PNG is drawn with Pillow (imported only here, only when a PNG is asked for): each character in its
cell, with a monospace TrueType font found on the machine (DejaVu Sans Mono, Liberation Mono, Noto Sans
Mono, Menlo, Consolas, …), a sans font for the symbols it lacks, and Pillow's own font as the last
resort. No browser, no system library beyond what Pillow's wheels carry.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from xml.sax.saxutils import escape as xml_escape

from akslbctl.records import record

RGB = tuple[int, int, int]

# The colours of a dark terminal (rich's SVG theme): the picture looks the same wherever it is shown.
BACKGROUND: RGB = (41, 41, 41)
FOREGROUND: RGB = (197, 200, 198)
TITLE: RGB = (160, 160, 160)
FONT_STACK = "'DejaVu Sans Mono', 'Liberation Mono', 'Noto Sans Mono', Menlo, Consolas, 'Courier New', monospace"
PAD = 16  # pixels around the text
WORDS = re.compile(r"\S+(?: \S+)*")  # runs with no leading, trailing or double space


@record(frozen=True)
class Run:
    """``text`` from ``column`` (in cells) on, in one style. ``cells``: the columns it takes."""

    column: int
    text: str
    cells: int
    fg: RGB
    bg: RGB | None = None
    bold: bool = False
    italic: bool = False
    underline: bool = False


def grid(recorder) -> list[list[Run]]:
    """The lines a recording console printed, as runs of styled words (spaces are gaps between runs,
    except where a background colours them)."""
    from rich.cells import cell_len
    from rich.terminal_theme import SVG_EXPORT_THEME
    from rich.text import Text

    theme = SVG_EXPORT_THEME
    text = Text.from_ansi(recorder.export_text(styles=True, clear=False))
    lines: list[list[Run]] = []
    for line in text.split("\n", allow_blank=True):
        runs: list[Run] = []
        column = 0
        for segment in line.render(recorder):
            if segment.control or not segment.text:
                continue
            piece = _xml_safe(segment.text)
            width = cell_len(piece)
            fg, bg, bold, italic, underline = _colours(segment.style, theme)
            if bg is not None:
                runs.append(Run(column, "", width, fg, bg))
            for match in WORDS.finditer(piece):
                start = column + cell_len(piece[: match.start()])
                word = match.group()
                runs.append(Run(start, word, cell_len(word), fg, None, bold, italic, underline))
            column += width
        lines.append(runs)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _colours(style, theme) -> tuple[RGB, RGB | None, bool, bool, bool]:
    if style is None:
        return FOREGROUND, None, False, False, False
    fg = style.color.get_truecolor(theme, foreground=True) if style.color else None
    bg = style.bgcolor.get_truecolor(theme, foreground=False) if style.bgcolor else None
    fg_rgb: RGB = tuple(fg) if fg is not None else FOREGROUND  # type: ignore[assignment]
    bg_rgb: RGB | None = tuple(bg) if bg is not None else None  # type: ignore[assignment]
    if style.reverse:
        fg_rgb, bg_rgb = (bg_rgb or BACKGROUND), fg_rgb
    if style.dim:
        under = bg_rgb or BACKGROUND
        fg_rgb = tuple(round(a * 0.6 + b * 0.4) for a, b in zip(fg_rgb, under, strict=True))  # type: ignore[assignment]
    return fg_rgb, bg_rgb, bool(style.bold), bool(style.italic), bool(style.underline)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """What XML cannot hold at all (the human renderers have escaped control characters already)."""
    return _NOT_XML.sub("\ufffd", text)


def _hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


# -- SVG ---------------------------------------------------------------------------------------------------

SVG_FONT = 14.0  # px
SVG_CELL = 8.43  # px: a cell of a 14 px monospace font (0.602 em, DejaVu Sans Mono's advance)
SVG_LINE = 18.0  # px


def to_svg(lines: Sequence[Sequence[Run]], *, title: str, columns: int) -> str:
    """A self-contained SVG document of ``lines``, ``columns`` cells wide."""
    used = max([columns, *(r.column + r.cells for line in lines for r in line)])
    bar = 32.0
    width = round(2 * PAD + used * SVG_CELL, 2)
    height = round(bar + PAD + len(lines) * SVG_LINE + PAD, 2)
    out = [
        # The namespace is a name, never fetched: viewers need it to know this is SVG.
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT_STACK}" font-size="{SVG_FONT}">',
        f"<title>{xml_escape(_xml_safe(title))}</title>",
        f'<rect width="{width}" height="{height}" rx="8" fill="{_hex(BACKGROUND)}"/>',
    ]
    for i, colour in enumerate(("#ff5f57", "#febc2e", "#28c840")):
        out.append(f'<circle cx="{PAD + 6 + 20 * i}" cy="{bar / 2 + 2}" r="6" fill="{colour}"/>')
    out.append(
        f'<text x="{width / 2:.2f}" y="{bar / 2 + 7:.2f}" text-anchor="middle" fill="{_hex(TITLE)}">'
        f"{xml_escape(_xml_safe(title))}</text>"
    )
    top = bar + PAD
    for row, line in enumerate(lines):
        y = top + row * SVG_LINE
        for r in line:
            x = PAD + r.column * SVG_CELL
            if r.bg is not None:
                out.append(
                    f'<rect x="{x:.2f}" y="{y:.2f}" width="{r.cells * SVG_CELL:.2f}" height="{SVG_LINE}" '
                    f'fill="{_hex(r.bg)}"/>'
                )
                continue
            attrs = [f'x="{x:.2f}"', f'y="{y + SVG_LINE * 0.75:.2f}"', f'fill="{_hex(r.fg)}"']
            attrs.append(f'textLength="{r.cells * SVG_CELL:.2f}" lengthAdjust="spacingAndGlyphs"')
            if r.bold:
                attrs.append('font-weight="bold"')
            if r.italic:
                attrs.append('font-style="italic"')
            if r.underline:
                attrs.append('text-decoration="underline"')
            out.append(f"<text {' '.join(attrs)}>{xml_escape(r.text)}</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# -- PNG ---------------------------------------------------------------------------------------------------

PNG_FONT = 16  # px
MAX_PNG_LINES = 1000  # about 22,000 pixels tall
MONO_FONTS = (
    "DejaVuSansMono.ttf",
    "LiberationMono-Regular.ttf",
    "NotoSansMono-Regular.ttf",
    "UbuntuMono-R.ttf",
    "Menlo.ttc",
    "consola.ttf",
    "cour.ttf",
)
SYMBOL_FONTS = ("DejaVuSans.ttf", "NotoSansSymbols2-Regular.ttf", "seguisym.ttf", "Apple Symbols.ttf")
BOLD = {
    "DejaVuSansMono.ttf": "DejaVuSansMono-Bold.ttf",
    "LiberationMono-Regular.ttf": "LiberationMono-Bold.ttf",
    "NotoSansMono-Regular.ttf": "NotoSansMono-Bold.ttf",
    "consola.ttf": "consolab.ttf",
    "cour.ttf": "courbd.ttf",
}


def font_dirs() -> list[str]:
    dirs = [
        os.path.expanduser("~/.local/share/fonts"),
        os.path.expanduser("~/.fonts"),
        "/usr/local/share/fonts",
        "/usr/share/fonts",
        "/System/Library/Fonts",
        "/Library/Fonts",
        os.path.expanduser("~/Library/Fonts"),
    ]
    windir = os.environ.get("WINDIR")
    if windir:
        dirs.append(os.path.join(windir, "Fonts"))
    return [d for d in dirs if os.path.isdir(d)]


@lru_cache(maxsize=1)
def _font_files() -> dict[str, str]:
    """Font file name → path, for the fonts this module looks for, first found wins."""
    wanted = {*MONO_FONTS, *SYMBOL_FONTS, *BOLD.values()}
    found: dict[str, str] = {}
    for top in font_dirs():
        for folder, _dirs, files in os.walk(top):
            for name in files:
                if name in wanted and name not in found:
                    found[name] = os.path.join(folder, name)
            if len(found) == len(wanted):
                return found
    return found


@record
class Fonts:
    regular: object
    bold: object
    fallbacks: list
    name: str | None  # the monospace font's file, None: Pillow's own font


def find_fonts(size: int = PNG_FONT) -> Fonts:
    from PIL import ImageFont

    files = _font_files()
    fallbacks = []
    for name in SYMBOL_FONTS:
        if name in files:
            try:
                fallbacks.append(ImageFont.truetype(files[name], size))
            except OSError:
                continue
    for name in MONO_FONTS:
        if name not in files:
            continue
        try:
            regular = ImageFont.truetype(files[name], size)
        except OSError:
            continue
        bold = regular
        if BOLD.get(name) in files:
            with contextlib.suppress(OSError):
                bold = ImageFont.truetype(files[BOLD[name]], size)
        return Fonts(regular, bold, fallbacks, name)
    default = ImageFont.load_default(size)
    return Fonts(default, default, fallbacks, None)


class _Glyphs:
    """Which font draws a character: the monospace one when it has the glyph, else a fallback."""

    def __init__(self, fonts: Fonts) -> None:
        self.fonts = fonts
        self.cache: dict[tuple[str, bool], object] = {}
        self.missing = {id(f): _mask_bytes(f, "\U0010fffd") for f in [fonts.regular, fonts.bold, *fonts.fallbacks]}

    def font(self, ch: str, bold: bool):
        key = (ch, bold)
        hit = self.cache.get(key)
        if hit is None:
            primary = self.fonts.bold if bold else self.fonts.regular
            hit = primary
            if not ch.isascii() and self._lacks(primary, ch):
                hit = next((f for f in self.fonts.fallbacks if not self._lacks(f, ch)), primary)
            self.cache[key] = hit
        return hit

    def _lacks(self, font, ch: str) -> bool:
        return _mask_bytes(font, ch) == self.missing[id(font)]


def _mask_bytes(font, ch: str) -> bytes:
    mask = font.getmask(ch)
    return bytes(mask) + repr(mask.size).encode()


def to_png(lines: Sequence[Sequence[Run]], *, title: str, columns: int, fonts: Fonts | None = None) -> bytes:
    """A PNG of ``lines``: every character in its cell, so columns stay aligned whatever the font."""
    import io

    from PIL import Image, ImageDraw
    from rich.cells import cell_len

    fonts = fonts or find_fonts()
    glyphs = _Glyphs(fonts)
    if len(lines) > MAX_PNG_LINES:  # taller than image viewers (and Pillow) accept: the rest is said, not drawn
        more = len(lines) - MAX_PNG_LINES + 1
        from akslbctl.render.wrap import fit

        note = fit(f"… {more} more lines not drawn: see the SVG or the terminal output", max(columns, 20))
        lines = [*lines[: MAX_PNG_LINES - 1], [Run(0, note, cell_len(note), TITLE)]]
    cell = max(1, round(fonts.regular.getlength("M"))) if fonts.name else round(PNG_FONT * 0.6)
    ascent, descent = fonts.regular.getmetrics()
    line_h = max(ascent + descent, round(PNG_FONT * 1.25)) + 2
    baseline = (line_h - ascent - descent) // 2 + ascent
    used = max([columns, *(r.column + r.cells for line in lines for r in line)])
    bar = 36
    width = 2 * PAD + used * cell
    height = bar + PAD + len(lines) * line_h + PAD
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for i, colour in enumerate(((255, 95, 87), (254, 188, 46), (40, 200, 64))):
        cx, cy = PAD + 6 + 20 * i, bar // 2 + 2
        draw.ellipse((cx - 6, cy - 6, cx + 6, cy + 6), fill=colour)
    title_w = fonts.regular.getlength(title)
    draw.text(((width - title_w) / 2, bar // 2 + 2), title, font=fonts.regular, fill=TITLE, anchor="lm")
    top = bar + PAD
    masks: dict[tuple[str, bool], object] = {}  # each glyph drawn once, then pasted in its colour
    for row, line in enumerate(lines):
        y = top + row * line_h
        for r in line:
            x0 = PAD + r.column * cell
            if r.bg is not None:
                draw.rectangle((x0, y, x0 + r.cells * cell - 1, y + line_h - 1), fill=r.bg)
                continue
            col = r.column
            for ch in r.text:
                w = cell_len(ch)
                if ch != " ":
                    mask = masks.get((ch, r.bold))
                    if mask is None:
                        font = glyphs.font(ch, r.bold)
                        mask = masks[(ch, r.bold)] = _glyph_mask(font, ch, w, cell, line_h, baseline)
                    image.paste(r.fg, (PAD + (col - 1) * cell, y), mask)
                col += w
            if r.underline:
                draw.line((x0, y + line_h - 3, x0 + r.cells * cell, y + line_h - 3), fill=r.fg)
    buffer = io.BytesIO()
    # Text on one background has few colours: a 128-colour palette keeps it sharp at a tenth of the size.
    image = image.quantize(colors=128, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _glyph_mask(font, ch: str, cells: int, cell: int, line_h: int, baseline: int):
    """``ch`` as an alpha mask one cell wider on each side than its own cells (a glyph from a wider
    fallback font may overhang), centred on its cells, on the baseline."""
    from PIL import Image, ImageDraw

    mask = Image.new("L", ((cells + 2) * cell, line_h), 0)
    ImageDraw.Draw(mask).text((cell + cells * cell / 2, baseline), ch, font=font, fill=255, anchor="ms")
    return mask
