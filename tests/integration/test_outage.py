"""The big outage (issue 13 #13): every node hangs, and explain must still end with a diagnosis.

Probes run all at once (as far as the descriptor limit allows) and each has its own timeout, so a
round over hundreds of hanging nodes costs about one --timeout, never one per batch of 512 — whose
sum ran into the deadline with no diagnosis at all. No wall time is asserted here (the benchmarks
measure it): what is asserted is that every node was probed and timed out, none left unprobed.
"""

from __future__ import annotations

from support import cli

from akslbctl.lab.behaviours import Hang

NODES = 600  # more than the old fixed bound of 512 probes at a time
HEALTH_PORT = 32700  # large-local's healthCheckNodePort


def test_every_node_hanging_still_gives_a_diagnosis(lab):
    running = lab(f"large-local:{NODES}")
    for i in range(NODES):
        running.set_behaviour(i, HEALTH_PORT, Hang())
    result = cli("explain", "svc/web", "-o", "json", "--timeout", "1")
    assert result.exit_code == 1, result.stderr
    doc = result.json
    nodes = doc["rules"][0]["nodes"]
    assert len(nodes) == NODES
    assert {n["observed"]["outcome"] for n in nodes} == {"timeout"}  # every node probed, none "not probed"
    assert {n["azure"]["state"] for n in nodes} == {"Down"}
    assert {n["verdict"] for n in nodes} == {"down"}
    assert doc["rules"][0]["up"] == 0 and doc["rules"][0]["down"] == NODES


def test_every_node_hanging_without_azure_says_no_probe_reached(lab):
    """Without Azure's view, a round where no probe got an answer is 'no verdict' (exit 3, one line) —
    after probing every node, not after running out of time."""
    running = lab(f"large-local:{NODES}")
    for i in range(NODES):
        running.set_behaviour(i, HEALTH_PORT, Hang())
    result = cli("explain", "svc/web", "-o", "json", "--timeout", "1", "--no-azure-health")
    assert result.exit_code == 3
    assert "no probe reached a node from here" in result.stderr and "deadline" not in result.stderr
    assert {n["observed"]["outcome"] for n in result.json["rules"][0]["nodes"]} == {"timeout"}
