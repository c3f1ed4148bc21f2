"""explain --tree at 80 and 120 columns, and the pictures for tickets (--svg, --png): the real CLI
against the lab, the files written through the one safe writer."""

from __future__ import annotations

import re

import pytest
from support import cli

NODES = [f"aks-nodepool1-12345678-vmss00000{i}" for i in range(3)]


def _cells(line: str) -> int:
    from rich.cells import cell_len

    return cell_len(line)


def _hangs(lines: list[str], head: str) -> list[str]:
    """The lines of the paragraph that starts with ``head``: its first line and those indented under it."""
    start = next(i for i, line in enumerate(lines) if line.startswith(head))
    out = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith(" " * len(head)) or not line.strip():
            break
        out.append(line)
    return out


# -- the tree ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [80, 120])
def test_tree_shows_azures_view_the_vantage_and_the_footer_within_the_width(lab, monkeypatch, columns):
    lab("nsg-blocks-probe")  # Azure says down where our probes succeed: the vantage matters
    monkeypatch.setenv("COLUMNS", str(columns))
    result = cli("explain", "svc/web", "--tree")
    assert result.exit_code == 1, result.stderr
    lines = result.stdout.splitlines()
    assert [line for line in lines if _cells(line) > columns] == []
    for node in NODES:
        assert any(f"● {node}  down" in line for line in lines), node
    assert result.stdout.count("Azure says: down: TCP probe timed out") == 3
    vantage = _hangs(lines, "Probes   ")
    assert vantage[0].startswith("Probes   sent from 127.0.0.1 (this machine); Azure probes from 168.63.129.16")
    assert " ".join(x.strip() for x in vantage).endswith("may treat differently")
    # The footer as the table's: the LB's answer with the findings' count, then the next command.
    footer = lines[lines.index(next(x for x in lines if x.startswith("DARK: "))) :]
    assert " ".join(footer[:-1]).startswith("DARK: no node is up for the LB on Tcp 80. 2 errors (")
    assert lines[-1] == "Next: akslbctl probe svc/web -n default --watch"
    # Findings hang under their head, as in explain's table: no continuation line starts at column 0.
    finding = _hangs(lines, "  ✖ nsg-blocks-probe  ")
    assert len(finding) > 1 and finding[-1].endswith("below the deny.")
    message = " ".join(x.strip() for x in finding)
    assert "DenyAzureLoadBalancerInBound (priority 400, Deny) denies 168.63.129.16" in message


def test_tree_at_80_columns_puts_azures_words_on_a_line_of_their_own(lab, monkeypatch):
    lab("hanging-health")
    monkeypatch.setenv("COLUMNS", "80")
    result = cli("explain", "svc/web", "--tree", "--timeout", "0.5")
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.endswith(f"● {NODES[1]}  down"))
    assert lines[at + 1].endswith("  Azure says: down: no HTTP response")
    assert re.search(r"│     GET :32650/healthz: no answer in time", lines[at + 2])
    assert re.search(r"^\s+│     kube-proxy or a firewall is not answering$", lines[at + 3])  # the detail hangs
    monkeypatch.setenv("COLUMNS", "120")
    wide = cli("explain", "svc/web", "--tree", "--timeout", "0.5").stdout.splitlines()
    assert any(line.endswith(f"● {NODES[1]}  down  Azure says: down: no HTTP response") for line in wide)


def test_tree_says_when_azures_view_is_unavailable(lab):
    lab("rule-health-forbidden")
    result = cli("explain", "svc/web", "--tree")
    assert result.exit_code == 0, result.stderr
    assert "Azure says" not in result.stdout
    assert "note: Azure's own view (rule health) is unavailable: missing permission" in result.stdout
    assert "Probes   sent from 127.0.0.1" in result.stdout  # nothing to compare with: the vantage is said
    assert result.stdout.splitlines()[-1] == "3 of 3 pool members up for the LB on every rule."


# -- the SVG ---------------------------------------------------------------------------------------------

SVG_NS = "http://www.w3.org/2000/svg"


def _texts(path) -> list:
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    assert root.tag == f"{{{SVG_NS}}}svg"
    return [el for el in root.iter(f"{{{SVG_NS}}}text")]


def test_svg_is_self_contained_and_keeps_columns_without_non_breaking_spaces(lab, tmp_path, monkeypatch):
    lab("nsg-blocks-probe")
    monkeypatch.setenv("COLUMNS", "80")
    path = tmp_path / "table.svg"
    result = cli("explain", "svc/web", "--svg", str(path))
    assert result.exit_code == 1, result.stderr
    assert f"saved the picture as {path}" in result.stderr
    raw = path.read_text(encoding="utf-8")
    # Nothing fetched at view time: the one URL is the SVG namespace, a name that is never fetched.
    assert re.findall(r"https?://[^\s\"')]+", raw) == [SVG_NS]
    for needle in ("@font-face", "@import", "url(", "href", "<image", "<script", "<style"):
        assert needle not in raw
    assert "&#160;" not in raw and "\u00a0" not in raw and "&nbsp;" not in raw
    texts = _texts(path)
    runs = [t.text or "" for t in texts]
    assert all(r == r.strip() and "  " not in r for r in runs), [r for r in runs if r != r.strip() or "  " in r]
    # Each node's row: the name, then its POOL and VERDICT cells at the same x on every row.
    xs = {}
    for t in texts:
        xs.setdefault(t.text, set()).add(t.get("x"))
    for node in NODES:
        assert node in runs
    assert len(xs["yes"]) == 1 and len(xs["down"]) == 1
    assert any(r.startswith("DARK: no node is up for the LB on Tcp 80.") for r in runs)


def test_svg_renders_with_librsvg(lab, tmp_path):
    import shutil
    import subprocess

    if shutil.which("rsvg-convert") is None:
        pytest.skip("rsvg-convert (librsvg2-bin) is not installed")
    lab("hanging-health")
    path = tmp_path / "tree.svg"
    assert cli("explain", "svc/web", "--tree", "--timeout", "0.5", "--svg", str(path)).exit_code == 0
    out = tmp_path / "tree-rsvg.png"
    done = subprocess.run(["rsvg-convert", str(path), "-o", str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- the PNG ---------------------------------------------------------------------------------------------


def test_png_of_the_tree_is_a_legible_picture_of_the_screen(lab, tmp_path, monkeypatch):
    from PIL import Image

    lab("hanging-health")
    monkeypatch.setenv("COLUMNS", "80")
    path = tmp_path / "tree.png"
    result = cli("explain", "svc/web", "--tree", "--timeout", "0.5", "--png", str(path))
    assert result.exit_code == 0, result.stderr
    assert "Azure says: down: no HTTP response" in result.stdout  # the tree still goes to the screen
    assert f"saved the picture as {path}" in result.stderr
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert 5_000 < len(data) < 1_000_000
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        width, height = image.size
        lines = len(result.stdout.splitlines())
        assert 80 * 7 < width < 80 * 14  # 80 cells of a 16 px monospace font, and a margin
        assert lines * 14 < height < lines * 30 + 200
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None
    background = max(colours)[1]
    ink = sum(n for n, c in colours if c != background)
    assert ink > width * height * 0.02  # text was drawn, not an empty frame
    reds = sum(n for n, (r, g, b) in colours if r > 150 and g < 110 and b < 110)
    greens = sum(n for n, (r, g, b) in colours if g > 140 and r < 180 and b < 120)
    assert reds > 50 and greens > 50  # the verdicts keep their colours


def test_png_and_svg_together_and_of_the_summary(lab, tmp_path):
    lab("multi-service")
    svg, png = tmp_path / "all.svg", tmp_path / "all.png"
    result = cli("explain", "-A", "--svg", str(svg), "--png", str(png))
    assert result.exit_code in (0, 1), result.stderr
    assert "WORST" in svg.read_text()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--svg", "{tmp}/report.png"], "use --png"),
        (["--png", "{tmp}/report.svg"], "use --svg"),
        (["--png", "-"], "--png needs a file name"),
        (["--png", "{tmp}/x.png", "-o", "json"], "--png draws the table or tree"),
        (["--png", "{tmp}/nope/x.png"], "does not exist"),
        (["--svg", "{tmp}/same", "--png", "{tmp}/same"], "name the same file"),
    ],
)
def test_bad_picture_options_exit_2_before_any_work(lab, tmp_path, args, says):
    running = lab("cluster-tcp")
    running.clear_requests()
    result = cli("explain", "svc/web", *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert result.exit_code == 2
    assert says in result.stderr and result.stderr.count("\n") <= 2
    assert result.stdout == "" and running.requests == []
    assert not list(tmp_path.iterdir())


def test_png_without_a_monospace_font_uses_pillows_own_and_says_so(lab, tmp_path, monkeypatch):
    from PIL import Image

    from akslbctl.render import picture

    lab("cluster-tcp")
    monkeypatch.setattr(picture, "font_dirs", lambda: [])
    picture._font_files.cache_clear()
    try:
        path = tmp_path / "plain.png"
        result = cli("explain", "svc/web", "--png", str(path))
    finally:
        picture._font_files.cache_clear()
    assert result.exit_code == 0, result.stderr
    assert "note: no monospace font found" in result.stderr and "Pillow's own font" in result.stderr
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 80 * 5
