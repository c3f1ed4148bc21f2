"""The command line: parse, call the pipeline, render, map outcomes to exit codes. No decisions here.

Commands live in their own modules (``akslbctl.cli.explain``, …) and are registered here.
"""

from __future__ import annotations

from typing import Annotated

import typer

from akslbctl import __version__
from akslbctl.cli.capture import capture
from akslbctl.cli.common import Terminal, term
from akslbctl.cli.completion import completion
from akslbctl.cli.diff import diff
from akslbctl.cli.examples import EXAMPLES, short_help
from akslbctl.cli.explain import explain
from akslbctl.cli.guard import guarded, kubectl_style
from akslbctl.cli.lab import lab_app
from akslbctl.cli.params import declared
from akslbctl.cli.probe import probe
from akslbctl.cli.version import version
from akslbctl.errors import ExitCode


def _plain_argument_metavars() -> None:
    """An argument with a metavar shows just it in help (``svc/NAME...``), not ``svc/NAME <list[str]>``."""
    from typer.core import TyperArgument

    shown = TyperArgument.display_type_rich

    def display_type_rich(self, ctx):
        return None if self.metavar else shown(self, ctx)

    TyperArgument.display_type_rich = display_type_rich


_plain_argument_metavars()

app = typer.Typer(
    name="akslbctl",
    help="Why does the Azure Load Balancer (not) send traffic to the nodes of my AKS Service?",
    add_completion=False,
    no_args_is_help=True,
    epilog=EXAMPLES[""],
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        term().stdout.write(f"akslbctl {__version__}\n")
        raise typer.Exit(0)


for _command in (explain, probe, diff, capture):
    app.command(no_args_is_help=False, short_help=short_help(_command), epilog=EXAMPLES[_command.__name__])(
        declared(_command)
    )
app.add_typer(lab_app, name="lab", short_help=lab_app.info.help, epilog=EXAMPLES["lab"])
app.command(short_help=short_help(completion), epilog=EXAMPLES["completion"])(declared(completion))
app.command(short_help=short_help(version), epilog=EXAMPLES["version"])(declared(version))


def run_cli(argv: list[str], prog: str = "akslbctl", terminal: Terminal | None = None) -> int:
    """Run one command line through typer; returns the exit code. Never lets a traceback reach the user."""

    def invoke():
        command = typer.main.get_command(app)
        if prog != "akslbctl":
            _examples_for(command, prog)
        return command.main(args=kubectl_style(argv), prog_name=prog, standalone_mode=False)

    return guarded(invoke, prog, terminal, _parser_error)


def _parser_error(exc: Exception, t: Terminal) -> int | None:
    """typer's own outcomes: Exit (``--version``), Abort (Ctrl-C at a prompt), usage errors."""
    if isinstance(exc, typer.Exit):
        return int(getattr(exc, "exit_code", 0) or 0)
    if isinstance(exc, typer.Abort):
        t.stderr.write("interrupted\n")
        return ExitCode.INTERRUPTED
    if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
        return _click_error(exc, t)
    return None


def _examples_for(command, prog: str) -> None:
    """Examples in help that read ``kubectl aks-lb …`` when the plugin runs (the krew convention)."""
    from akslbctl.cli.examples import for_program

    if getattr(command, "epilog", None):
        command.epilog = for_program(command.epilog, prog)
    for sub in getattr(command, "commands", {}).values():
        _examples_for(sub, prog)


def _click_error(exc, t: Terminal) -> int:
    """Usage errors from argument parsing: one line, exit 2; "no arguments" prints the help."""
    name = type(exc).__name__
    ctx = getattr(exc, "ctx", None)
    if name == "NoArgsIsHelpError" and ctx is not None:
        t.stdout.write(ctx.get_help() + "\n")
        return ExitCode.OK if ctx.parent is None else ExitCode.BAD_INPUT
    cmd = ctx.command_path if ctx is not None else t.prog
    t.error(f"{exc.format_message()} (see '{cmd} --help')")
    code = int(getattr(exc, "exit_code", 2))
    return ExitCode.BAD_INPUT if code != 0 else 0
