"""The offline path (explain -f, diff -f) imports neither the Kubernetes client nor the Azure SDK:
they cost most of an offline run's start (issue 14), and a case file needs neither."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import cli

HEAVY = ("kubernetes", "azure", "urllib3", "requests")


@pytest.mark.parametrize("command", [["explain", "-o", "json"], ["explain"], ["diff"]])
def test_offline_commands_import_no_client_library(lab, tmp_path, command):
    lab("local-http")
    case = tmp_path / "case.json"
    assert cli("capture", "svc/web", "-f", str(case)).exit_code == 0
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "akslbctl", command[0], "-f", str(case), *command[1:]],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "120"},
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    modules = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert modules, "no import times recorded"
    assert not {m for m in modules if m.split(".")[0] in HEAVY}
