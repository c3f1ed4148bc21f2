"""explain and diff print the same table through the plain console as through rich's Console.

Piped output (no terminal) goes through :class:`akslbctl.render.plain.PlainConsole`; this captures
lab scenarios whose tables differ in shape (folded rows, findings, leftover and missing rules, NSG
paths, Azure's view, no load balancer at all), replays each case file in every human format at
several widths, once as the program runs and once with rich's Console forced, and compares the bytes.
"""

from __future__ import annotations

import pytest
from support import cli

from akslbctl.cli.common import Terminal

SCENARIOS = [
    "local-http",
    "mixed-30",
    "missing-rule",
    "stale-rule",
    "nsg-subnet-no-client-rule",
    "dualstack-ipv6-down",
    "laptop-no-azure",
    "pool-nic-other-lb",
    "pending-permission",
    "invalid-annotation",
]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_tables_through_the_plain_console_are_rich_s(lab, tmp_path, monkeypatch, scenario):
    running = lab(scenario)
    path = str(tmp_path / "case.json")
    assert cli("capture", "svc/web", "-f", path, "--timeout", "1").exit_code == 0
    running.stop()
    commands = [("explain", "-f", path, "-o", fmt) for fmt in ("table", "wide")]
    commands += [("explain", "-f", path, "--all-nodes"), ("diff", "-f", path)]
    for columns in ("40", "80", "120", "1000"):
        monkeypatch.setenv("COLUMNS", columns)
        for argv in commands:
            plain = cli(*argv)
            with monkeypatch.context() as m:
                m.setattr(Terminal, "printer", Terminal.console)
                real = cli(*argv)
            assert plain.stdout, argv
            assert (plain.exit_code, plain.stdout, plain.stderr) == (real.exit_code, real.stdout, real.stderr), (
                columns,
                argv,
            )


def test_piped_offline_tables_load_no_console_no_logging_no_sockets(lab, tmp_path):
    """What keeps a piped ``explain -f`` / ``diff -f`` near a bare start: the table reaches the pipe
    without rich's console, nothing loads ``logging`` (nothing logs without --debug), and no socket
    module is loaded where nothing is sent."""
    import json
    import os
    import subprocess
    import sys

    running = lab("local-http")
    path = str(tmp_path / "case.json")
    assert cli("capture", "svc/web", "-f", path, "--timeout", "1").exit_code == 0
    running.stop()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "AKSLBCTL_"))}
    for command in ("explain", "diff"):
        probe = (
            "import sys, json\n"
            "from akslbctl.cli.fast import run\n"
            "from akslbctl.cli.common import Terminal\n"
            f"code = run([{command!r}, '-f', {path!r}], 'akslbctl', Terminal(sys.stdout, sys.stderr))\n"
            "print(json.dumps([code, sorted(sys.modules)]))\n"
        )
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
        code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
        assert code in (0, 1), done.stderr
        assert "2 of 3 pool members up" in done.stdout or command == "diff"
        assert not set(loaded) & {"rich.console", "logging", "socket", "asyncio"}, command
        assert "rich.text" in loaded
