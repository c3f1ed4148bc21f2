"""The command deadline: what is left of it, how it bounds timeouts, and run_within's three endings."""

from __future__ import annotations

import threading
import time

import pytest

from akslbctl.deadline import MIN_WAIT, Deadline, run_within
from akslbctl.errors import DeadlineExceeded, ExitCode, NotFoundError


def test_no_deadline_leaves_everything_as_asked():
    d = Deadline.start(None)
    assert d.remaining() == float("inf") and not d.expired
    assert d.bound(7.5) == 7.5
    assert Deadline.start(0).seconds is None  # 0 or less means none
    assert Deadline.start(float("inf")).seconds is None
    assert run_within(Deadline.start(1e300), lambda: "waited", "x") == "waited"  # beyond threading.TIMEOUT_MAX


def test_bound_shortens_to_what_is_left_never_below_the_minimum():
    d = Deadline(10.0, started=time.monotonic() - 8.0)
    assert 1.9 < d.bound(5.0) <= 2.0
    assert d.bound(1.0) == 1.0
    assert 1.4 < d.bound(5.0, reserve=0.5) <= 1.5
    gone = Deadline(1.0, started=time.monotonic() - 5.0)
    assert gone.expired and gone.remaining() == 0.0 and gone.bound(5.0) == MIN_WAIT


def test_check_raises_the_one_line_exit_3_error():
    gone = Deadline(2.0, started=time.monotonic() - 3.0)
    with pytest.raises(DeadlineExceeded) as exc:
        gone.check("collecting the evidence")
    assert exc.value.exit_code == ExitCode.NO_EVIDENCE
    line = str(exc.value)
    assert line.startswith("collecting the evidence did not finish within the 2 s deadline")
    assert "--deadline" in line and "\n" not in line


def test_run_within_returns_the_value_and_reraises_errors():
    d = Deadline.start(5.0)
    assert run_within(d, lambda: 42, "x") == 42
    with pytest.raises(NotFoundError):
        run_within(d, lambda: (_ for _ in ()).throw(NotFoundError("gone")), "x")
    assert run_within(None, lambda: "direct", "x") == "direct"


def test_run_within_gives_up_at_the_deadline_while_the_work_is_stuck():
    release = threading.Event()
    d = Deadline.start(0.3)
    with pytest.raises(DeadlineExceeded, match="waiting for a server did not finish within the 0.3 s deadline"):
        run_within(d, lambda: release.wait(30), "waiting for a server")
    assert not release.is_set()  # the work was still stuck: run_within did not wait for it
    release.set()


def test_run_within_refuses_to_start_after_the_deadline():
    ran = []
    with pytest.raises(DeadlineExceeded):
        run_within(Deadline(1.0, started=time.monotonic() - 2.0), lambda: ran.append(1), "late work")
    assert ran == []
