"""explain starts its probe round as soon as the Service, the Nodes and the LBs are in (issue 14), while
the NICs, the network path, EndpointSlices and Events are still read. End to end against the lab: the
same verdicts as one round after all the evidence, every target probed once, and the round after the
whole case taking over whatever the early one could not plan or did not finish.
"""

from __future__ import annotations

import threading

from support import cli, node_rows

from akslbctl import pipeline
from akslbctl.errors import ExitCode

NODES = [f"aks-nodepool1-12345678-vmss00000{i}" for i in range(3)]


def _rounds(monkeypatch) -> list[tuple[str, int]]:
    """("early" or "after", targets) of every probe round explain runs: the early one is begun on the
    thread that collects the evidence, the one after the whole case on the main thread."""
    seen: list[tuple[str, int]] = []
    real = pipeline.begin_probes

    def counted(targets, options, **kw):
        main = threading.current_thread() is threading.main_thread()
        seen.append(("after" if main else "early", len(targets)))
        return real(targets, options, **kw)

    monkeypatch.setattr(pipeline, "begin_probes", counted)
    return seen


def _verdicts(doc: dict, rule: int = 0) -> list[tuple[str, str]]:
    rows = node_rows(doc, rule)
    return [(rows[n]["verdict"], rows[n]["reason"]) for n in NODES]


def _judged(doc: dict) -> list[tuple]:
    return [
        (rule["name"], n["name"], n["verdict"], n["reason"], n["detail"], n["observed"]["outcome"])
        for rule in doc["rules"]
        for n in rule["nodes"]
    ]


def test_local_service_is_probed_once_by_the_early_round(lab, monkeypatch):
    running = lab("local-http")
    rounds = _rounds(monkeypatch)
    result = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    assert result.exit_code == ExitCode.OK, result.stderr  # node 2 out of rotation by design
    assert _verdicts(result.json) == [("up", "probe-ok"), ("up", "probe-ok"), ("down", "http-status")]
    # One round, begun before the whole case was in; nothing left for a second one.
    assert rounds == [("early", 3)]
    assert [running.connections(i, 32649) for i in range(3)] == [1, 1, 1]


def test_targets_only_the_whole_case_plans_are_probed_after_it(lab, monkeypatch):
    # The status port a gateway's readinessProbe names comes from its pods, read after the LBs: the
    # early round probes the data port, the round after the whole case the rest — and every listener
    # sees the connections it sees when all is probed in one round after the whole case.
    def connections(running) -> list[int]:
        return [running.connections(i, port) for port in (31080, 31021) for i in range(3)]

    monkeypatch.setattr(pipeline.EarlyProbes, "start", lambda self, partial: None)
    alone = lab("gateway-data-port")
    one_round = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    monkeypatch.undo()
    running = lab("gateway-data-port")
    rounds = _rounds(monkeypatch)
    result = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    assert result.exit_code == one_round.exit_code == ExitCode.PROBLEM, result.stderr
    rule80 = next(i for i, r in enumerate(result.json["rules"]) if r["frontendPort"] == 80)
    assert _verdicts(result.json, rule80) == [("down", "http-status")] * 3
    assert _judged(result.json) == _judged(one_round.json)
    assert result.json["findings"] == one_round.json["findings"]
    assert [name for name, _ in rounds] == ["early", "after"]
    assert connections(running) == connections(alone) and all(connections(running))


def test_an_early_round_that_fails_leaves_the_probing_to_the_whole_case(lab, monkeypatch):
    running = lab("local-http")
    rounds = _rounds(monkeypatch)
    real = pipeline.probe_plan

    def failing_early(analysis):
        if threading.current_thread() is not threading.main_thread():  # the early round's planning
            raise RuntimeError("the partial case could not be planned")
        return real(analysis)

    monkeypatch.setattr(pipeline, "probe_plan", failing_early)
    result = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    assert result.exit_code == ExitCode.OK, result.stderr  # node 2 out of rotation by design
    assert _verdicts(result.json) == [("up", "probe-ok"), ("up", "probe-ok"), ("down", "http-status")]
    assert rounds == [("after", 3)]
    assert [running.connections(i, 32649) for i in range(3)] == [1, 1, 1]


def test_no_early_round_without_probes_or_an_lb(lab, monkeypatch):
    lab("local-http")
    rounds = _rounds(monkeypatch)
    result = cli("explain", "svc/web", "-o", "json", "--no-probe")
    assert result.exit_code == ExitCode.OK, result.stderr
    assert rounds == []
    lab("pending-no-events")
    result = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    assert "Traceback" not in result.output
    assert all(name == "MainThread" for name, _ in rounds)


def test_an_early_round_cut_by_the_deadline_ends_with_exit_3(lab):
    lab("hanging-health")
    result = cli("explain", "svc/web", "-o", "json", "--timeout", "30", "--deadline", "2")
    assert result.exit_code == ExitCode.NO_EVIDENCE, result.stderr
    assert "deadline" in result.stderr and "probing" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_command_of_its_own_probes_in_its_worker_process(lab):
    # As a user runs it (a process without threads at the start), explain forks its probe worker: the
    # same document as the in-process round (this test process has threads: no worker), every listener
    # probed once, and Azure's view asked once per rule.
    import json
    import os
    import subprocess
    import sys

    running = lab("local-http")
    inside = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    for i in range(3):
        assert running.connections(i, 32649) == 1
    running.clear_requests()
    env = {**os.environ, **running.env}
    done = subprocess.run(
        [sys.executable, "-m", "akslbctl", "explain", "svc/web", "-o", "json", "--timeout", "1", "--debug"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == inside.exit_code == ExitCode.OK, done.stderr
    assert "in worker process" in done.stderr and "probing in this process" not in done.stderr
    alone = json.loads(done.stdout)
    assert _judged(alone) == _judged(inside.json)
    assert alone["findings"] == inside.json["findings"]
    assert [running.connections(i, 32649) for i in range(3)] == [2, 2, 2]
    health = [r for r in running.requests if r.method == "POST" and r.path.endswith("/health")]
    assert len(health) == len(alone["rules"])
