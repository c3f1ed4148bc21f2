"""A signal that lands inside an object's constructor leaves a half-built object whose finaliser fails
when it is freed (an asyncio event loop stopped by SIGTERM inside ``__init__``: "'_UnixSelectorEventLoop'
object has no attribute '_debug'"). While the run is ending on that signal, the finaliser's error is no
news: nothing of it reaches stderr. Outside an interrupt, such an error is still reported."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)


def test_a_half_built_loop_freed_after_sigterm_prints_nothing():
    result = _run(
        """
        import asyncio, sys
        from akslbctl import entry

        entry._harden_process()
        entry._terminated_by = 15  # SIGTERM is ending the run

        class Half(asyncio.SelectorEventLoop):
            def __init__(self):  # cut off before BaseEventLoop.__init__ set _debug
                pass

        loop = Half()
        del loop
        print("done")
        """
    )
    assert result.stdout.strip() == "done"
    assert "_debug" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr


def test_outside_an_interrupt_a_failing_finaliser_is_still_reported():
    result = _run(
        """
        from akslbctl import entry

        entry._harden_process()

        class Broken:
            def __del__(self):
                raise AttributeError("nope")

        Broken()
        print("done")
        """
    )
    assert result.stdout.strip() == "done"
    assert "Exception ignored" in result.stderr and "nope" in result.stderr
