"""The worker process lists the Nodes for a live explain (issue 14), as a command of its own runs it: a
process without threads at its start, so each case runs ``python -m akslbctl`` against a lab served
by this test process. Whatever the worker cannot do — a list that fails, a Node of the Service's own
that does not parse — the parent does as without it: the same document, notes, stderr and exit code
as the in-process run of the same command (this test process has threads: no worker there)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest
from support import cli

from akslbctl.errors import ExitCode
from akslbctl.lab.httpserver import Fault
from akslbctl.lab.scenarios import build

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the worker forks on Linux only")


def _alone(running, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **running.env}
    return subprocess.run(
        [sys.executable, "-m", "akslbctl", *argv], capture_output=True, text=True, env=env, timeout=120
    )


def _judged(doc: dict) -> list[tuple]:
    return [(r["name"], n["name"], n["verdict"], n["reason"]) for r in doc["rules"] for n in r["nodes"]]


def _node_lists(running) -> int:
    return sum(1 for r in running.requests if r.method == "GET" and r.path == "/api/v1/nodes")


def test_the_worker_reads_the_nodes_as_the_parent_would(lab):
    running = lab("local-http")
    inside = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    lists = _node_lists(running)
    running.clear_requests()
    done = _alone(running, "explain", "svc/web", "-o", "json", "--timeout", "1", "--debug")
    assert done.returncode == inside.exit_code == ExitCode.OK, done.stderr
    assert "Nodes read by worker process" in done.stderr
    alone = json.loads(done.stdout)
    assert _judged(alone) == _judged(inside.json)
    assert alone["findings"] == inside.json["findings"] and alone["notes"] == inside.json["notes"]
    assert _node_lists(running) == lists  # the same pages, read once


def test_a_node_of_someone_else_that_does_not_parse_is_noted_as_without_a_worker(lab):
    cluster = build("local-http")
    odd = copy.deepcopy(cluster.nodes[0])
    odd["metadata"]["name"] = "aks-other-99999999-vmss000000"
    odd["status"]["addresses"] = "not a list"
    cluster.nodes.append(odd)
    running = lab(cluster)
    inside = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    done = _alone(running, "explain", "svc/web", "-o", "json", "--timeout", "1", "--debug")
    assert done.returncode == inside.exit_code, done.stderr
    assert "Nodes read by worker process" in done.stderr
    alone = json.loads(done.stdout)
    notes = [n for n in alone["notes"] if n.startswith("skipped Node")]
    assert len(notes) == 1 and notes == [n for n in inside.json["notes"] if n.startswith("skipped Node")]
    assert _judged(alone) == _judged(inside.json)


@pytest.mark.parametrize("status", [403, 500])
def test_a_nodes_list_the_api_refuses_fails_as_without_a_worker(lab, status):
    # The worker's error is the parent's: the same line and exit code, and the list is not asked again.
    running = lab("local-http")
    running.add_fault(Fault(api="kube", route="kube.nodes.list", status=status, body=b'{"kind":"Status"}'))
    inside = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    asked = _node_lists(running)
    running.clear_requests()
    done = _alone(running, "explain", "svc/web", "-o", "json", "--timeout", "1", "--debug")
    assert inside.exit_code == done.returncode == ExitCode.NO_EVIDENCE
    assert "reading them here" not in done.stderr
    last = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert last == [line for line in inside.stderr.splitlines() if line.startswith("error:")]
    assert _node_lists(running) == asked
    assert "Traceback" not in done.stderr


def test_a_node_of_the_services_own_that_does_not_parse_is_read_again_by_the_parent(lab):
    # Strict for the Service's own objects: the worker cannot tell the parent why in its words, so the
    # parent reads the Nodes itself and fails as an in-process run does.
    cluster = build("local-http")
    mine = cluster.nodes[1]
    ingress = cluster.services[0]["status"]["loadBalancer"]["ingress"][0]["ip"]
    mine["metadata"].setdefault("annotations", {})["example.com/frontend"] = ingress  # names the Service
    mine["status"]["addresses"] = "not a list"
    running = lab(cluster)
    inside = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    done = _alone(running, "explain", "svc/web", "-o", "json", "--timeout", "1", "--debug")
    assert inside.exit_code == done.returncode == ExitCode.NO_EVIDENCE, done.stderr
    assert "could not read the Nodes: reading them here" in done.stderr
    last = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert last == [line for line in inside.stderr.splitlines() if line.startswith("error:")]
    assert "unexpected document" in last[0]


def test_without_probes_the_worker_still_reads_the_nodes(lab):
    running = lab("local-http")
    inside = cli("explain", "svc/web", "-o", "json", "--no-probe")
    done = _alone(running, "explain", "svc/web", "-o", "json", "--no-probe", "--debug")
    assert done.returncode == inside.exit_code, done.stderr
    assert "Nodes read by worker process" in done.stderr and "in worker process" not in done.stderr.replace(
        "Nodes read by worker process", ""
    )
    assert _judged(json.loads(done.stdout)) == _judged(inside.json)


def test_a_missing_service_leaves_no_worker_behind(lab):
    running = lab("local-http")
    done = _alone(running, "explain", "svc/nope", "-o", "json", "--timeout", "1")
    assert done.returncode == ExitCode.BAD_INPUT, done.stderr
    assert "not found" in done.stderr
    mine = subprocess.run(["pgrep", "-f", "akslbctl explain svc/nope"], capture_output=True, text=True)
    assert mine.stdout.strip() == ""
