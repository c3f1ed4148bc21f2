"""``--help`` answered before typer loads must be exactly what typer would print."""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stdout

import pytest

from akslbctl.cli._help import HELP
from akslbctl.cli.app import run_cli
from akslbctl.cli.common import Terminal
from akslbctl.entry import PLUGIN_PROG, _prerendered_help


def typer_help(words: list[str], prog: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out):  # click writes help straight to sys.stdout
        code = run_cli([*words, "--help"], prog, Terminal(out, err, prog=prog))
    assert code == 0, err.getvalue()
    return out.getvalue()


@pytest.mark.parametrize("path", sorted(HELP))
@pytest.mark.parametrize("prog", ["akslbctl", PLUGIN_PROG])
def test_prerendered_help_is_what_typer_prints(path, prog, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    words = path.split() if path else []
    assert _prerendered_help([*words, "--help"], prog) == typer_help(words, prog)


def test_narrow_terminals_and_other_arguments_go_to_typer(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    assert _prerendered_help(["explain", "--help"], "akslbctl") is None
    monkeypatch.setenv("COLUMNS", "120")
    assert _prerendered_help(["explain", "svc/web", "--help"], "akslbctl") is None
    assert _prerendered_help(["explain"], "akslbctl") is None
    assert _prerendered_help(["-n", "x", "--help"], "akslbctl") is None


def test_help_does_not_import_typer():
    code = "import sys; from akslbctl.entry import run; run(['explain', '--help']); print('typer' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"COLUMNS": "100"})
    assert out.stdout.strip().endswith("False"), out.stderr
