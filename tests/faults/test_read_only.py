"""akslbctl is read-only (contract §2): on every lab scenario, explain, diff, probe and capture send
nothing but GETs — and ARM's rule-health POST, which changes nothing. The lab rejects and records any
other request (``Lab.writes``), so a write attempt cannot hide behind an error it provokes."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from support import cli

from akslbctl.lab.scenarios import SCENARIOS

# Scenarios with a size parameter run small: the point is every request, not many of them.
SPECS = [f"{name}:5" if s.parameter else name for name, s in SCENARIOS.items()]
ALLOWED = {("POST", "arm.rule-health")}


@pytest.mark.parametrize("spec", SPECS)
def test_every_command_on_every_scenario_only_reads(lab, spec, tmp_path):
    running = lab(spec)
    ns, name = running.cluster.main_service.split("/")
    target = ["svc/" + name, "-n", ns]
    quick = ("--timeout", "0.5")  # hanging-health's node never answers
    runs = {
        "explain": cli("explain", *target, "-o", "json", *quick),
        "explain-no-probe": cli("explain", *target, "--no-probe"),
        "explain-all": cli("explain", "-A", "-o", "json", *quick),
        "diff": cli("diff", *target, "-o", "json"),
        "probe": cli("probe", *target, "--count", "1", "--interval", "0", "-o", "json", *quick),
        "capture": cli("capture", *target, "-f", str(tmp_path / "case.json"), *quick),
    }
    for command, result in runs.items():
        # 3: no verdict (contract §5.1), e.g. --no-probe without Azure's view — still only reads.
        assert result.exit_code in (0, 1, 3), f"{command}: {result.exit_code} {result.stderr}"
        assert "Traceback" not in result.output
    requests = running.requests
    assert requests, "the commands reached the lab"
    assert running.writes == []
    assert {(r.method, r.route) for r in requests if r.method != "GET"} <= ALLOWED
    assert {r.api for r in requests} == {"kube", "arm"}


def test_the_lab_catches_a_write(lab):
    """The detector works: a PUT (token or not) is refused and recorded as a write attempt."""
    running = lab("cluster-tcp")
    url = f"{running.arm_url}/subscriptions/{running.cluster.subscription}/resourceGroups/rg?api-version=2024-05-01"
    request = urllib.request.Request(
        url, data=b"{}", method="PUT", headers={"Authorization": f"Bearer {running.arm_token}"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405
    assert [(w.api, w.method) for w in running.writes] == [("arm", "PUT")]
