"""kubectl habits: ``-o=json`` / ``--output=json``, durations with units, the List document of
``-A -o json``, ``version``, help in words with examples, and the width of piped output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support import cli

from akslbctl import __version__
from akslbctl.cli._help import HELP
from akslbctl.cli.durations import parse_duration
from akslbctl.errors import ExitCode


@pytest.mark.parametrize("spelling", [["-o=json"], ["--output=json"], ["-o", "json"], ["--output", "json"]])
def test_output_spellings_kubectl_takes(lab, spelling):
    lab("cluster-tcp")
    result = cli("explain", "svc/web", *spelling, "--timeout", "1s")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert result.json["kind"] == "ServiceDiagnosis"


def test_short_option_with_equals_everywhere(lab):
    lab("multi-service")
    result = cli("explain", "-n=shop", "-l=app=store", "-o=json", "--timeout=500ms")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert [d["service"]["name"] for d in result.json["items"]] == ["store"]


def test_all_namespaces_json_is_one_list_document(lab):
    lab("multi-service")
    result = cli("explain", "-A", "-o=json", "--timeout", "1s")
    assert result.exit_code == ExitCode.OK, result.stderr
    doc = result.json
    assert (doc["apiVersion"], doc["kind"]) == ("akslbctl/v1alpha1", "ServiceDiagnosisList")
    assert [i["kind"] for i in doc["items"]] == ["ServiceDiagnosis"] * 3


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("5", 5.0),
        ("5s", 5.0),
        ("500ms", 0.5),
        ("1m30s", 90.0),
        ("2h", 7200.0),
        ("0.25", 0.25),
        ("1.5s", 1.5),
        ("1e3", 1000.0),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


def test_durations_with_units_reach_the_requests(lab):
    running = lab("cluster-tcp")
    result = cli("explain", "svc/web", "--request-timeout", "5s", "--timeout", "500ms", "--deadline", "1m")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert any(r.route == "kube.services.get" for r in running.requests)
    probe = cli("probe", "svc/web", "--count", "1", "--interval", "0s", "--timeout", "1s", "-o", "json")
    assert probe.exit_code == ExitCode.OK, probe.stderr


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["explain", "svc/web", "--request-timeout", "5x"], "--request-timeout"),
        (["explain", "svc/web", "--timeout", "fast"], "--timeout"),
        (["explain", "svc/web", "--timeout", "0s"], "--timeout"),
        (["explain", "svc/web", "--deadline", "-1s"], "--deadline"),
        (["probe", "svc/web", "--interval", "1 s"], "--interval"),
        (["capture", "svc/web", "-f", "x.json", "--timeout", "nan"], "--timeout"),
        (["diff", "svc/web", "--request-timeout", ""], "--request-timeout"),
    ],
)
def test_bad_durations_are_one_line_and_exit_2(argv, flag):
    result = cli(*argv)
    assert result.exit_code == ExitCode.BAD_INPUT
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and flag in lines[0] and "Traceback" not in result.stderr


def test_version_command_and_flag():
    assert cli("--version").stdout == f"akslbctl {__version__}\n"
    assert cli("version").stdout == f"akslbctl {__version__}\n"
    doc = cli("version", "-o", "json").json
    assert (doc["kind"], doc["version"]) == ("Version", __version__)
    assert "kubernetes" in doc["libraries"] and doc["python"]
    assert cli("version", "-o", "table").exit_code == ExitCode.BAD_INPUT


def test_help_names_values_in_words_and_shows_examples():
    for path, text in HELP.items():
        assert "<str>" not in text and "<float" not in text and "<int" not in text and "list[str]" not in text, path
        assert "\nExamples:\n" in text or "\n  Examples:\n" in text, path
    explain = HELP["explain"]
    for words in ("--kubeconfig FILE", "--svg FILE", "--timeout DURATION", "-o, --output FORMAT", "[default: 5s]"):
        assert words in explain
    assert "SCENARIO" in HELP["lab run"] and "SHELL" in HELP["completion"]


def test_top_level_help_is_not_cut():
    text = HELP[""]
    assert "..." not in text.split("Commands:")[1].split("Examples:")[0]
    assert "round after round: last\n              result, LB state, Azure's view." in text


def _run_with_terminal(columns: int | None, env: dict[str, str]) -> str:
    """Run ``akslbctl explain`` with stdout a pipe; stdin and stderr a pseudo-terminal of ``columns``
    (or no terminal at all, in a session of its own), as ``akslbctl … | less`` does."""
    import fcntl
    import pty
    import struct
    import termios

    argv = [sys.executable, "-m", "akslbctl", "explain", "svc/web", "-o", "wide", "--timeout", "1s"]
    env = {k: v for k, v in env.items() if k != "COLUMNS"}
    if columns is None:
        proc = subprocess.run(
            argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, start_new_session=True
        )
        return proc.stdout
    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    try:
        proc = subprocess.run(argv, env=env, stdin=child, stdout=subprocess.PIPE, stderr=child, text=True)
    finally:
        os.close(child)
        os.close(parent)
    return proc.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminals as on Linux")
def test_piped_output_takes_the_terminal_width_or_does_not_wrap(lab):
    lab("nsg-blocks-probe")  # long lines: Azure's view disagrees with ours, a long finding
    env = dict(os.environ)
    narrow = _run_with_terminal(90, env)
    assert narrow.strip() and max(len(line) for line in narrow.splitlines()) <= 90
    unbounded = _run_with_terminal(None, env)
    assert unbounded.strip() and max(len(line) for line in unbounded.splitlines()) > 120  # not a fixed 120
    assert len(unbounded.splitlines()) < len(narrow.splitlines())


def test_plugin_help_examples_read_as_the_plugin():
    from akslbctl.entry import PLUGIN_PROG, _prerendered_help

    text = _prerendered_help(["explain", "--help"], PLUGIN_PROG)
    assert text is not None and "\n    kubectl aks-lb explain -A\n" in text
    assert "\n    akslbctl explain" not in text
    assert "(akslbctl capture)" in text  # prose keeps the program's name
