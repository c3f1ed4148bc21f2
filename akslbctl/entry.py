"""Console entry points. Kept tiny: shell completion runs the program at every TAB, so the fast paths
here answer before typer, rich or any SDK is imported."""

from __future__ import annotations

import os
import sys

PLUGIN_PROG = "kubectl aks-lb"


def _prog_name() -> str:
    base = os.path.basename(sys.argv[0] or "")
    return PLUGIN_PROG if base.startswith("kubectl-aks_lb") else "akslbctl"


# The signal that ended the run, when SIGTERM or SIGHUP did (they end it as Ctrl-C does).
_terminated_by: int | None = None


def main(argv: list[str] | None = None, prog: str | None = None) -> None:
    _harden_process()
    try:
        code = run(list(sys.argv[1:] if argv is None else argv), prog or _prog_name())
    except KeyboardInterrupt:  # Ctrl-C before the command's own handling (while modules load)
        code = 130
    finally:
        _remove_private_files()
    if code == 130 and _terminated_by is not None:
        code = 128 + _terminated_by  # 143 for SIGTERM, 129 for SIGHUP, as a shell reports them
    finish(code)


def _remove_private_files() -> None:
    """The run's private folder (credential files of the kubernetes client), if one was made."""
    private = sys.modules.get("akslbctl.private")
    if private is not None:
        private.remove()


def _on_terminate(signum: int, frame) -> None:
    """SIGTERM (timeout, CI cancellation, kill) and SIGHUP (a closed terminal): end the run the way
    Ctrl-C does — the same unwinding, the same cleanup (no client key left on disk) — by delivering
    SIGINT to whatever handles it now (Python's, or asyncio's while a probe round runs)."""
    import signal

    global _terminated_by
    if _terminated_by is None:
        _terminated_by = signum
    if callable(signal.getsignal(signal.SIGINT)):
        signal.raise_signal(signal.SIGINT)
    else:  # SIGINT ignored (a job started with '&' by a script): unwind all the same
        raise KeyboardInterrupt


def _harden_process() -> None:
    """Process-wide settings no input may defeat.

    - stdout escapes what it cannot encode: a lone UTF-16 surrogate from an API answer or a case file
      comes out as ``\\ud800`` — in JSON output that is the same escape, so the document stays valid —
      instead of ending the run with UnicodeEncodeError.
    - A Ctrl-C that lands inside a finaliser (``__del__`` of an event loop the cyclic collector frees
      during ``probe --watch``) is one Python can only print as "Exception ignored" and drop: the hook
      delivers it again, so it ends the run with 130 like any other Ctrl-C.
    """
    import contextlib
    import signal

    _fill_closed_standard_fds()
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="backslashreplace")
    default_hook = sys.unraisablehook

    def unraisable(args) -> None:
        if args.exc_type is not None and issubclass(args.exc_type, KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
            return
        if _half_built_finaliser(args) and (_terminated_by is not None or _interrupted()):
            return  # the interrupt landed in the object's constructor: its finaliser's error is no news
        default_hook(args)

    sys.unraisablehook = unraisable
    import threading

    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            sig = getattr(signal, name, None)
            if sig is not None and signal.getsignal(sig) in (signal.SIG_DFL, None):
                with contextlib.suppress(OSError, ValueError):
                    signal.signal(sig, _on_terminate)


def _half_built_finaliser(args) -> bool:
    """An AttributeError out of a ``__del__``: what an object an interrupt cut off mid-constructor (an
    event loop that SIGTERM stopped inside ``__init__``) says when it is freed — it never got the
    attribute its finaliser reads."""
    name = getattr(args.object, "__qualname__", "") or ""
    return args.exc_type is not None and issubclass(args.exc_type, AttributeError) and name.endswith(".__del__")


def _interrupted() -> bool:
    """A Ctrl-C is being handled where the object was freed."""
    return isinstance(sys.exc_info()[1], KeyboardInterrupt)


def _fill_closed_standard_fds() -> None:
    """A run started with fd 0, 1 or 2 closed (``akslbctl … >&-``): each hole gets /dev/null, so that
    no file the run opens (a key file, a socket) becomes 'stdout', and writes do not raise."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        try:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        except OSError:
            continue
        name = ("stdin", "stdout", "stderr")[fd]
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, "r" if fd == 0 else "w", closefd=False))  # noqa: SIM115


def finish(code: int) -> None:
    """End the process with ``code`` now, whatever is still running.

    After Ctrl-C (130) SIGINT gets its default action back, so a second Ctrl-C during the last flush
    ends the process at once instead of raising KeyboardInterrupt wherever the interpreter happens to
    be shutting down. The process always leaves through ``os._exit`` once the output is flushed and
    the exit handlers ran: a thread still blocked on a server that never answers (a request abandoned
    at the deadline or on Ctrl-C) must not hold the exit — interpreter shutdown joins thread-pool
    workers — and tearing the interpreter down would only cost time.
    """
    import contextlib
    import signal
    import threading

    code = int(code)
    main_thread = threading.current_thread() is threading.main_thread()
    if code in (129, 130, 143) and main_thread:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        for name in ("SIGTERM", "SIGHUP"):  # a second one during the last flush ends it at once
            if getattr(signal, name, None) is not None:
                signal.signal(getattr(signal, name), signal.SIG_DFL)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError) as exc:
            if stream is sys.stdout and isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
                # A full disk, an I/O error: the output is not whole — never exit 0 on that.
                with contextlib.suppress(OSError, ValueError):
                    sys.stderr.write(f"error: could not write the output ({exc.strerror or exc})\n")
                    sys.stderr.flush()
                if code in (0, 1):
                    code = 3
            # A reader that went away (| head): point the descriptor at /dev/null so that the
            # interpreter's own last flush does not print "Exception ignored … BrokenPipeError".
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
            except (OSError, ValueError):
                pass
    if main_thread:
        import atexit

        # What atexit would do still happens — the private folder of credential files is removed, the
        # kubernetes client forgets its temporary files, logging flushes — then the process ends at
        # once: no joins of threads stuck on a server that never answers, and no interpreter teardown
        # (finalising ~700 modules and every object cost 0.7 s after an explain of 1,000 nodes).
        atexit._run_exitfuncs()
        _remove_private_files()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    sys.exit(code)


def plugin_main() -> None:
    main(prog=PLUGIN_PROG)


def plugin_complete_main() -> None:
    """``kubectl_complete-aks_lb``: kubectl (>= 1.26) runs it with the words to complete."""
    sys.exit(run(["__complete", *sys.argv[1:]], PLUGIN_PROG))


def run(argv: list[str], prog: str = "akslbctl") -> int:
    if argv and argv[0] in ("__complete", "__completeNoDesc"):
        # Every TAB lands here: answer from the generated spec, before typer (and pydantic) load.
        from akslbctl.cli.complete import main as complete

        return complete(argv[0], argv[1:])
    text = _prerendered_help(argv, prog)
    if text is not None:
        sys.stdout.write(text)
        return 0
    if argv and argv[0] in _ONE_SHOT:
        _no_cyclic_collection()
    from akslbctl.cli.fast import run as run_command  # typer loads only for what it alone can read

    return run_command(argv, prog)


# Commands that read, decide, print and end: no long-running loop that would pile up garbage cycles.
_ONE_SHOT = frozenset({"explain", "diff", "capture"})


def _no_cyclic_collection() -> None:
    """No cyclic garbage collection for a one-shot command.

    Its big objects — tens of megabytes of decoded Nodes, the model built from them — are acyclic
    and freed by reference counting; a collector pass walks all of them every few thousand
    allocations (0.6 s at 1,000 nodes, up to 2 s at 5,000) and frees nothing. What cycles a run does
    make (exceptions, event loops) are small and end with the process.
    """
    import gc

    gc.disable()
    gc.freeze()  # what is loaded so far stays out of any collection a library asks for


def _prerendered_help(argv: list[str], prog: str) -> str | None:
    """``[COMMAND…] --help`` from the generated texts, when typer would print exactly the same.

    Only for a bare command path (anything else, such as ``explain svc/web --help``, goes to typer)
    and a terminal of at least 80 columns (click wraps help to ``min(columns, 80) - 2``).
    """
    if argv and argv[-1] in ("-h", "--help"):
        words = argv[:-1]
    else:
        return None
    import shutil

    if shutil.get_terminal_size().columns < 80:
        return None
    from akslbctl.cli._help import HELP

    text = HELP.get(" ".join(words))
    if text is None or any(w.startswith("-") for w in words):
        return None
    if prog != "akslbctl":
        from akslbctl.cli.examples import for_program

        text = for_program(text.replace("Usage: akslbctl", f"Usage: {prog}", 1), prog)
    return text + "\n"
