"""Terminal manners: colour only on a terminal and never with NO_COLOR, progress on stderr only on a
terminal, the wide table readable at 80 columns, --debug with request lines and no secrets."""

from __future__ import annotations

import io
import re

import pytest
from support import Result, cli

from akslbctl.cli.app import Terminal, run_cli

SGR = re.compile(r"\x1b\[([0-9;]*)m")


class Tty(io.StringIO):
    """A stream that says it is a terminal, as a user's would."""

    def isatty(self) -> bool:
        return True


def run_on_tty(*argv: str, stdout_tty: bool = True, stderr_tty: bool = True) -> Result:
    out = Tty() if stdout_tty else io.StringIO()
    err = Tty() if stderr_tty else io.StringIO()
    code = run_cli(list(argv), "akslbctl", Terminal(out, err))
    return Result(int(code), out.getvalue(), err.getvalue())


def colour_codes(text: str) -> list[str]:
    """SGR parameters that set a colour (foreground or background), not bold/dim."""
    found = []
    for params in SGR.findall(text):
        for p in params.split(";"):
            if p.isdigit() and (30 <= int(p) <= 49 or 90 <= int(p) <= 107):
                found.append(p)
    return found


@pytest.fixture
def terminal_env(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    for name in ("FORCE_COLOR", "COLORTERM", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def test_colour_on_a_terminal(lab, terminal_env):
    lab("appprotocol-404")
    result = run_on_tty("explain", "svc/web", stderr_tty=False)
    assert result.exit_code == 1
    assert colour_codes(result.stdout), "a terminal gets coloured verdicts"


def test_no_color_removes_every_colour(lab, terminal_env, monkeypatch):
    lab("appprotocol-404")
    monkeypatch.setenv("NO_COLOR", "1")
    result = run_on_tty("explain", "svc/web", stderr_tty=False)
    assert result.exit_code == 1
    assert "down" in result.stdout
    assert colour_codes(result.stdout) == []


def test_piped_output_has_no_escape_codes(lab, terminal_env):
    lab("appprotocol-404")
    for args in (["explain", "svc/web"], ["explain", "svc/web", "--tree"], ["explain", "-A"], ["diff", "svc/web"]):
        result = cli(*args)
        assert "\x1b[" not in result.stdout, args
        assert "\x1b[" not in result.stderr, args


def test_progress_only_when_stderr_is_a_terminal(lab, terminal_env):
    lab("cluster-tcp")
    on_tty = run_on_tty("explain", "svc/web", "-o", "json", stdout_tty=False, stderr_tty=True)
    assert on_tty.exit_code == 0
    assert "collecting evidence" in on_tty.stderr or "probing the nodes" in on_tty.stderr
    assert on_tty.stdout.startswith("{")  # progress never reaches stdout
    piped = run_on_tty("explain", "svc/web", "-o", "json", stdout_tty=False, stderr_tty=False)
    assert piped.stderr == ""


def test_wide_table_is_readable_at_80_columns(lab, monkeypatch):
    running = lab("nsg-blocks-probe")  # every column in use: Azure's view disagrees with ours
    monkeypatch.setenv("COLUMNS", "80")
    result = cli("explain", "svc/web", "-o", "wide")
    lines = result.stdout.splitlines()
    too_long = [line for line in lines if len(line) > 80]
    assert too_long == []
    for node in running.cluster.nodes:
        name = node["metadata"]["name"]
        assert any(line.startswith(name + " ") for line in lines), f"{name} cut or missing"


def test_debug_logs_requests_and_never_a_token(lab):
    running = lab("cluster-tcp")
    result = cli("explain", "svc/web", "--debug")
    assert result.exit_code == 0
    assert re.search(r"debug: akslbctl\.kube: GET /api/v1/namespaces/default/services/web → 200", result.stderr)
    assert "GET /api/v1/nodes" in result.stderr
    assert re.search(r"debug: akslbctl\.arm: .*loadBalancers.* → 200", result.stderr)
    for secret in (running.kube_token, running.arm_token):
        assert secret not in result.stdout and secret not in result.stderr
    assert "authorization" not in result.stderr.lower() and "bearer" not in result.stderr.lower()


@pytest.mark.parametrize("command", ["explain", "probe", "diff", "capture"])
def test_every_command_that_talks_to_an_api_has_debug(command):
    from akslbctl.cli.specgen import build_spec

    options = {name for names, *_ in build_spec()[command]["options"] for name in names}
    assert "--debug" in options


@pytest.mark.parametrize("columns", ["abc", "-40", "\u0663", "0", "99999999"])
def test_a_columns_that_is_not_a_width_is_ignored_on_a_terminal_too(lab, terminal_env, monkeypatch, columns):
    """On a terminal rich reads COLUMNS itself (and would take the Arabic-Indic digit ٣ for a width of
    3): it only ever sees a usable one, so the table is as wide as without it."""
    lab("cluster-tcp")
    monkeypatch.delenv("COLUMNS", raising=False)
    plain = run_on_tty("explain", "svc/web", stderr_tty=False)
    monkeypatch.setenv("COLUMNS", columns)
    odd = run_on_tty("explain", "svc/web", stderr_tty=False)
    assert odd.exit_code == plain.exit_code == 0
    assert max(map(len, SGR.sub("", odd.stdout).splitlines())) == max(map(len, SGR.sub("", plain.stdout).splitlines()))
