"""One command run with akslbctl's guarantees, whichever parser read the command line: an exit code
always, one line for any error, never a traceback, Ctrl-C as 130, a reader that went away as 0."""

from __future__ import annotations

import sys
from collections.abc import Callable

from akslbctl.cli import common
from akslbctl.cli.common import Terminal
from akslbctl.errors import AkslbctlError, ExitCode
from akslbctl.logs import DebugLog


def guarded(
    invoke: Callable[[], object],
    prog: str,
    terminal: Terminal | None = None,
    parser_error: Callable[[Exception, Terminal], int | None] | None = None,
) -> int:
    """Run ``invoke`` (which returns the command's exit code) on ``terminal``.

    ``parser_error`` turns what the parser raises (typer's usage errors, its Exit and Abort) into an
    exit code, or returns None for anything else.
    """
    t = common.use_terminal(terminal or Terminal(sys.stdout, sys.stderr, prog=prog))
    t.prog = prog
    sigint = _sigint_handler()
    try:
        rv = invoke()
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
    except Exception as exc:
        code = parser_error(exc, t) if parser_error is not None else None
        if code is not None:
            return code
        if isinstance(exc, OSError) and exc.errno in _OUTPUT_ERRNOS:  # a full disk under stdout: not 0
            t.error(f"could not write the output ({exc.strerror or exc})")
            return ExitCode.NO_EVIDENCE
        t.error(f"internal error: {type(exc).__name__}: {exc} (please report this with --debug output)")
        if DebugLog("akslbctl").enabled():
            import traceback

            t.stderr.write(t.redact("".join(traceback.format_exception(exc))))
        return ExitCode.NO_EVIDENCE
    finally:
        _restore_sigint(sigint)


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
