"""Ctrl-C on a terminal leaves the terminal as it was: the live table of ``probe --watch`` and the
progress spinner both hide the cursor while they draw; interrupted, the run shows it again, exits 130
and prints no traceback. The terminal is a pseudo-terminal, as a user's would be."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time

import pytest

from akslbctl.lab.cluster import AksBuilder

HIDE, SHOW = b"\x1b[?25l", b"\x1b[?25h"


def _on_a_terminal(running, argv: list[str], ready) -> tuple[int, bytes]:
    """Run akslbctl with stdout and stderr on a pty; SIGINT once ``ready(output so far)``; all output."""
    leader, follower = pty.openpty()
    env = {**os.environ, **running.env, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "akslbctl", *argv], stdin=follower, stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    output = b""
    sent = False
    give_up = time.monotonic() + 30
    try:
        while time.monotonic() < give_up:  # read all the child writes, or it blocks on a full terminal
            readable, _, _ = select.select([leader], [], [], 0.05)
            if readable:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            if not sent and ready(output):
                time.sleep(0.3)
                proc.send_signal(signal.SIGINT)
                sent = True
            if proc.poll() is not None and not readable:
                break
        assert sent, output[-400:]
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    return code, output


@pytest.mark.parametrize("output_format", ["table"])
def test_ctrl_c_in_the_live_table_restores_the_cursor(lab, output_format):
    running = lab("cluster-tcp")
    code, out = _on_a_terminal(
        running, ["probe", "svc/web", "--watch", "--interval", "0.3", "-o", output_format], lambda o: b"Round 2" in o
    )
    assert code == 130
    assert HIDE in out, "the live table hid the cursor"
    assert out.rfind(SHOW) > out.rfind(HIDE), "the cursor is shown again at the end"
    assert b"Traceback" not in out and b"Exception" not in out


def test_ctrl_c_under_the_progress_spinner_restores_the_cursor(lab):
    b = AksBuilder(name="tty-hang").add_service("web", ports=[{"port": 80, "nodePort": 30396}])
    b.fault("kube", "kube.nodes.list", hang=True)
    running = lab(b.build())

    def hanging(_: bytes) -> bool:
        return any(r.route == "kube.nodes.list" for r in running.requests)

    code, out = _on_a_terminal(running, ["explain", "svc/web"], hanging)
    assert code == 130
    assert b"Traceback" not in out and b"Exception" not in out
    if HIDE in out:  # a spinner was drawn
        assert out.rfind(SHOW) > out.rfind(HIDE)
