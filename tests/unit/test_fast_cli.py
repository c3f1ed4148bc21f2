"""The command lines akslbctl reads without typer give the command exactly what typer would, and every
other line is left to typer (which reads it, or says what is wrong, as it always has)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from akslbctl.cli import fast
from akslbctl.cli._spec import PARSE


def typer_arguments(argv: list[str]) -> dict | None:
    """What typer calls the command function with for ``argv`` (None: it refused the line)."""
    import typer
    from typer.main import get_command

    from akslbctl.cli.app import app, kubectl_style

    root = get_command(app)
    command = root.commands[argv[0]]
    got: dict = {}
    cell = command.callback.__closure__[0]  # typer's wrapper around the command function
    original = cell.cell_contents
    assert original.__name__ == PARSE[argv[0]][1]
    cell.cell_contents = lambda **kw: got.update(kw) or 0
    try:
        root.main(args=kubectl_style(argv), prog_name="akslbctl", standalone_mode=False)
    except (typer.Exit, typer.Abort, Exception) as exc:
        if hasattr(exc, "format_message") or isinstance(exc, (typer.Exit, typer.Abort)):
            return None
        raise
    finally:
        cell.cell_contents = original
    return got or None


LINES = [
    ["explain"],
    ["explain", "svc/web"],
    ["explain", "svc", "web", "-n", "prod"],
    ["explain", "web", "-o", "json", "--timeout=1m30s", "--deadline", "30", "--request-timeout", "500ms"],
    ["explain", "-ojson", "-A", "--no-probe", "--tree", "--all-nodes", "--debug"],
    ["explain", "-o=yaml", "-n=kube-system", "--namespace=x", "svc/a"],
    ["explain", "-f", "case.json", "--provider-version", "v1.24.10", "--svg", "a.svg", "--png", "b.png"],
    ["explain", "-l", "app=web", "--context", "aks", "--kubeconfig", "/k", "-g", "MC_x", "--subscription", "s"],
    ["explain", "--arm-endpoint", "http://127.0.0.1:1", "--no-azure-health", "--timeout", "7"],
    ["explain", "--output", "--debug"],  # a value that looks like a flag is still the value
    ["explain", "-"],
    ["diff", "svc/web", "-o", "json"],
    ["diff", "-f", "case.json", "--deadline", "2m"],
    ["probe", "web", "--count", "2", "--interval", "1s", "-w"],
    ["probe", "web", "--count", "0"],
    ["probe", "web", "--count", "+3"],
    ["probe", "web", "--count", "٣"],
    ["capture", "svc/web", "-f", "case.json", "--redact", "--timeout", "2s"],
    ["explain", "--timeout", "abc"],
    ["explain", "--timeout", "-5"],
    ["explain", "--timeout", "0.01"],
    ["explain", "--help"],
    ["explain", "-h"],
    ["explain", "--nope"],
    ["explain", "-Aw"],
    ["explain", "--debug=yes"],
    ["explain", "-o"],
    ["explain", "--", "svc/web"],
]


@pytest.mark.parametrize("argv", LINES, ids=[" ".join(a) for a in LINES])
def test_own_reading_is_typers_or_none(argv):
    ours = fast.arguments(argv)
    if ours is not None:
        assert ours == typer_arguments(argv)


def test_the_common_lines_are_read_without_typer():
    for argv in LINES[:14]:
        assert fast.arguments(argv) is not None, argv
    for argv in (["explain", "--help"], ["explain", "--nope"], ["explain", "--timeout", "abc"], ["version"]):
        assert fast.arguments(argv) is None, argv


def _words():
    options = sorted({o for _, _, params in PARSE.values() for _, opts, _, _ in params for o in opts})
    values = ["web", "svc/web", "json", "table", "5s", "0", "2", "-1", "1m", "x=y", "", "--", "-", "--help", "-h"]
    return st.lists(st.sampled_from(options + values + [f"{o}=v" for o in options[:6]]), max_size=8)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(PARSE)), _words())
def test_random_lines_agree_with_typer(command, words):
    argv = [command, *words]
    ours = fast.arguments(argv)
    if ours is not None:
        assert ours == typer_arguments(argv)


def test_offline_explain_loads_neither_typer_nor_pydantic(tmp_path):
    """What makes an offline explain cheap: no typer, no pydantic, no client library."""
    case = tmp_path / "case.json"
    case.write_text("{}")  # any file: the modules are loaded before it is judged
    probe = (
        "import sys, io, contextlib\n"
        "from akslbctl.cli.fast import run\n"
        "from akslbctl.cli.common import Terminal\n"
        f"run(['explain', '-f', {str(case)!r}, '-o', 'json'], 'akslbctl', Terminal(io.StringIO(), io.StringIO()))\n"
        "print(__import__('json').dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "AKSLBCTL_"))}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    assert not loaded & {"typer", "pydantic", "kubernetes", "azure", "httpx", "click"}
    assert "akslbctl" in loaded
