"""``akslbctl lab``: a simulated AKS cluster on loopback, to try akslbctl without one."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from akslbctl.cli.common import term
from akslbctl.cli.examples import EXAMPLES
from akslbctl.errors import ExitCode

Scenario = Annotated[
    str, typer.Argument(metavar="SCENARIO", help="Scenario name (akslbctl lab list).", show_default=False)
]

lab_app = typer.Typer(
    help="A simulated AKS cluster on loopback, to try akslbctl without one.",
    no_args_is_help=True,
)


@lab_app.command("list", epilog=EXAMPLES["lab list"])
def lab_list() -> int:
    """List the lab's scenarios."""
    from akslbctl.lab.scenarios import SCENARIOS

    width = max(len(n) for n in SCENARIOS)
    for name, scenario in SCENARIOS.items():
        term().stdout.write(f"{name.ljust(width)}  {scenario.description}\n")
    return ExitCode.OK


@lab_app.command(
    "run",
    short_help="Start a scenario, run one akslbctl command against it (default: explain its Service), stop it.",
    epilog=EXAMPLES["lab run"],
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def lab_run(
    scenario: Scenario,
    command: Annotated[
        list[str] | None,
        typer.Argument(metavar="COMMAND", help="akslbctl command to run against it, after --.", show_default=False),
    ] = None,
) -> int:
    """Start a scenario, run one akslbctl command against it (default: explain its Service), stop it."""
    import subprocess

    from akslbctl.lab.runner import Lab
    from akslbctl.lab.scenarios import build

    cluster = build(scenario)
    args = list(command or []) or [
        "explain",
        f"svc/{cluster.main_service.split('/')[-1]}",
        "-n",
        cluster.main_service.split("/")[0],
    ]
    with Lab(cluster) as lab:
        env = {**os.environ, **lab.env}
        try:
            proc = subprocess.run([sys.executable, "-m", "akslbctl", *args], env=env, check=False)
        except KeyboardInterrupt:
            return ExitCode.INTERRUPTED
    return proc.returncode if proc.returncode >= 0 else ExitCode.INTERRUPTED


@lab_app.command(
    "up",
    short_help="Start a scenario and keep it running; prints the environment to point akslbctl at it.",
    epilog=EXAMPLES["lab up"],
)
def lab_up(scenario: Scenario) -> int:
    """Start a scenario and keep it running; prints the environment to point akslbctl at it."""
    from akslbctl.lab.runner import serve_forever
    from akslbctl.lab.scenarios import build

    serve_forever(build(scenario))
    return ExitCode.OK
