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

    cluster = _build(scenario)
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
            # Ctrl-C reached the whole process group: the command itself said "interrupted"
            term().interrupt_told = True
            return ExitCode.INTERRUPTED
    if proc.returncode in (ExitCode.INTERRUPTED, -2):
        term().interrupt_told = True
    return proc.returncode if proc.returncode >= 0 else ExitCode.INTERRUPTED


@lab_app.command(
    "up",
    short_help="Start a scenario and keep it running; prints the environment to point akslbctl at it.",
    epilog=EXAMPLES["lab up"],
)
def lab_up(scenario: Scenario) -> int:
    """Start a scenario and keep it running; prints the environment to point akslbctl at it."""
    from akslbctl.lab.runner import serve_forever

    serve_forever(_build(scenario))
    return ExitCode.OK


def _build(spec: str):
    """The scenario's cluster; an unknown name or a bad parameter is bad input (exit 2), with the
    closest names offered — never an internal error."""
    import difflib

    from akslbctl.errors import UsageError
    from akslbctl.lab.scenarios import SCENARIOS, build

    name = spec.partition(":")[0]
    if name not in SCENARIOS:
        close = difflib.get_close_matches(name, list(SCENARIOS), n=3, cutoff=0.6)
        raise UsageError(
            f"unknown lab scenario {name!r}" + (f" (did you mean {' or '.join(close)}?)" if close else ""),
            hint="'akslbctl lab list' lists them",
        )
    try:
        return build(spec)
    except (KeyError, ValueError, TypeError) as exc:
        raise UsageError(f"lab scenario {spec!r}: {' '.join(str(exc).split())[:200]}") from None
