"""A lab in a process of its own, for benchmarks: ``akslbctl lab up SCENARIO``, its environment parsed
from the ``export`` lines it prints, so the timed commands never share an interpreter with the lab."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys


def start_lab(
    scenario: str, *, program: list[str] | None = None, cwd: str | None = None
) -> tuple[subprocess.Popen, dict[str, str]]:
    """Start a lab; returns the process and ``os.environ`` plus the lab's variables."""
    cmd = [*(program or [sys.executable, "-m", "akslbctl"]), "lab", "up", scenario]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=cwd)
    env = dict(os.environ)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("export "):
            key, _, value = line[len("export ") :].strip().partition("=")
            env[key] = shlex.split(value)[0] if value else ""
        if line.startswith("# main Service"):
            return proc, env
    raise SystemExit(f"the lab {scenario} did not start")


def stop_lab(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
