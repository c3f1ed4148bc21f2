"""The command line: parse, call the pipeline, render, map outcomes to exit codes. No decisions here.

Commands live in their own modules (``akslbctl.cli.explain``, …) and are registered here.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from akslbctl import __version__
from akslbctl.cli import common
from akslbctl.cli.capture import capture
from akslbctl.cli.common import Terminal, term
from akslbctl.cli.completion import completion
from akslbctl.cli.diff import diff
from akslbctl.cli.examples import EXAMPLES, short_help
from akslbctl.cli.explain import explain
from akslbctl.cli.lab import lab_app
from akslbctl.cli.probe import probe
from akslbctl.cli.version import version
from akslbctl.errors import AkslbctlError, ExitCode


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
    app.command(no_args_is_help=False, short_help=short_help(_command), epilog=EXAMPLES[_command.__name__])(_command)
app.add_typer(lab_app, name="lab", short_help=lab_app.info.help, epilog=EXAMPLES["lab"])
app.command(short_help=short_help(completion), epilog=EXAMPLES["completion"])(completion)
app.command(short_help=short_help(version), epilog=EXAMPLES["version"])(version)


def run_cli(argv: list[str], prog: str = "akslbctl", terminal: Terminal | None = None) -> int:
    """Run one command line; returns the exit code. Never lets a traceback reach the user."""
    t = common.use_terminal(terminal or Terminal(sys.stdout, sys.stderr, prog=prog))
    t.prog = prog
    sigint = _sigint_handler()
    try:
        command = typer.main.get_command(app)
        if prog != "akslbctl":
            _examples_for(command, prog)
        rv = command.main(args=kubectl_style(argv), prog_name=prog, standalone_mode=False)
        code = int(rv) if isinstance(rv, int) else 0
        if code == ExitCode.INTERRUPTED and not t.interrupt_told:  # typer turns Ctrl-C into a quiet 130
            t.stderr.write("interrupted\n")
        return code
    except AkslbctlError as exc:
        t.error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        t.stderr.write("interrupted\n")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except SystemExit as exc:
        # typer turns an EPIPE on output into sys.exit(1): the reader went away (| head), which is no
        # failure of the command.
        if isinstance(exc.__context__, BrokenPipeError):
            return ExitCode.OK
        raise
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except typer.Abort:
        t.stderr.write("interrupted\n")
        return ExitCode.INTERRUPTED
    except Exception as exc:
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            return _click_error(exc, t)
        if isinstance(exc, OSError) and exc.errno in _OUTPUT_ERRNOS:  # a full disk under stdout: not 0
            t.error(f"could not write the output ({exc.strerror or exc})")
            return ExitCode.NO_EVIDENCE
        t.error(f"internal error: {type(exc).__name__}: {exc} (please report this with --debug output)")
        if logging.getLogger("akslbctl").isEnabledFor(logging.DEBUG):
            import traceback

            t.stderr.write(t.redact("".join(traceback.format_exception(exc))))
        return ExitCode.NO_EVIDENCE
    finally:
        _restore_sigint(sigint)


def _examples_for(command, prog: str) -> None:
    """Examples in help that read ``kubectl aks-lb …`` when the plugin runs (the krew convention)."""
    from akslbctl.cli.examples import for_program

    if getattr(command, "epilog", None):
        command.epilog = for_program(command.epilog, prog)
    for sub in getattr(command, "commands", {}).values():
        _examples_for(sub, prog)


def kubectl_style(argv: list[str]) -> list[str]:
    """Option spellings kubectl users type, in the form the parser takes: ``-o=json`` → ``-o json``
    (``--output=json`` already works). Words after ``--`` are left alone."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return out + argv[i:]
        if len(arg) > 3 and arg[0] == "-" and arg[1].isalpha() and arg[2] == "=":
            out += [arg[:2], arg[3:]]
        else:
            out.append(arg)
    return out


def _errnos(*names: str) -> frozenset[int]:
    import errno

    return frozenset(getattr(errno, n) for n in names if hasattr(errno, n))


_OUTPUT_ERRNOS = _errnos("ENOSPC", "EDQUOT", "EFBIG", "EIO", "EROFS")


def _sigint_handler():
    """The SIGINT handler in force when a run starts (None off the main thread, where none can be set)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.getsignal(signal.SIGINT)


def _restore_sigint(handler) -> None:
    """Put back the SIGINT handler a run started with, should anything it ran have replaced it: Ctrl-C
    must keep meaning KeyboardInterrupt (exit 130) for whatever runs next in the process."""
    import signal

    if handler is not None and signal.getsignal(signal.SIGINT) is not handler:
        signal.signal(signal.SIGINT, handler)


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
