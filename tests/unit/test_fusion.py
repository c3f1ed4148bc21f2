"""Evidence fusion (contract §5.1): Azure's view, then our probe where it reached the node, else unknown."""

from __future__ import annotations

import pytest

from akslbctl.analysis.fusion import (
    AZURE_DOWN,
    AZURE_UP,
    BLOCKED_BEFORE_NODE,
    UNREACHABLE_FROM_HERE,
    Own,
    azure_state,
    blind_round,
    fuse,
    reached,
)
from akslbctl.model import probe as outcomes
from akslbctl.model.probe import ProbeResult, ProbeTarget
from akslbctl.model.report import DOWN, NOT_PROBED, PROBE_OK, UNKNOWN, UP, AzureHealth

T = ProbeTarget("10.224.0.4", 30396, "Tcp")

OK_OWN = Own(UP, PROBE_OK, "TCP handshake on :30396 completed")
REFUSED_OWN = Own(DOWN, outcomes.REFUSED, ":30396: connection refused")
TIMEOUT_OWN = Own(DOWN, outcomes.TIMEOUT, ":30396: no answer in time")
NOT_PROBED_OWN = Own(UNKNOWN, NOT_PROBED, "not probed (--no-probe)")

AZ_UP = AzureHealth("Up", "Up_Probe_Success")
AZ_DOWN = AzureHealth("Down", "Down_Probe_TcpProbeTimeout")
AZ_RECOVERING = AzureHealth("Down", "Down_Probe_ApproachingHealthyThreshold")
AZ_ADMIN_DOWN = AzureHealth("Down", "Down_Admin")
AZ_EMPTY = AzureHealth(None, None)  # a stopped VM, or not probed yet


@pytest.mark.parametrize(
    ("own", "reach", "health", "verdict", "reason"),
    [
        # Azure's view decides whenever it holds a state.
        (OK_OWN, True, AZ_UP, UP, PROBE_OK),
        (REFUSED_OWN, True, AZ_UP, UP, AZURE_UP),  # ours fails from here, the LB still sends
        (TIMEOUT_OWN, False, AZ_UP, UP, AZURE_UP),  # the laptop: no route, Azure says Up
        (NOT_PROBED_OWN, None, AZ_UP, UP, AZURE_UP),
        (REFUSED_OWN, True, AZ_DOWN, DOWN, outcomes.REFUSED),  # both agree: our outcome explains it
        (OK_OWN, True, AZ_DOWN, DOWN, BLOCKED_BEFORE_NODE),  # the node answers us, not 168.63.129.16
        (OK_OWN, True, AZ_RECOVERING, DOWN, AZURE_DOWN),  # recovering, not blocked
        (OK_OWN, True, AZ_ADMIN_DOWN, DOWN, AZURE_DOWN),  # admin state, not blocked
        (TIMEOUT_OWN, False, AZ_DOWN, DOWN, AZURE_DOWN),
        (NOT_PROBED_OWN, None, AZ_DOWN, DOWN, AZURE_DOWN),
        # No Azure state: our probe decides where it reached the node.
        (OK_OWN, True, None, UP, PROBE_OK),
        (REFUSED_OWN, True, None, DOWN, outcomes.REFUSED),
        (TIMEOUT_OWN, True, None, DOWN, outcomes.TIMEOUT),  # a timeout in a round that reached other nodes
        (TIMEOUT_OWN, False, None, UNKNOWN, UNREACHABLE_FROM_HERE),  # never down for this machine's position
        (NOT_PROBED_OWN, None, None, UNKNOWN, NOT_PROBED),
        (OK_OWN, True, AZ_EMPTY, UP, PROBE_OK),  # empty Azure entries are no view
        (TIMEOUT_OWN, False, AZ_EMPTY, UNKNOWN, UNREACHABLE_FROM_HERE),
    ],
)
def test_fusion_table(own, reach, health, verdict, reason):
    fused = fuse(own, reach, health, source="10.224.0.99")
    assert (fused.verdict, fused.reason) == (verdict, reason)


def test_blocked_detail_names_what_stops_azures_probe():
    fused = fuse(OK_OWN, True, AZ_DOWN, source="10.1.2.3", blocked_by="subnet NSG corp rule DenyAll denies it")
    assert fused.reason == BLOCKED_BEFORE_NODE
    assert "from 10.1.2.3 succeeds" in fused.detail and "168.63.129.16" in fused.detail
    assert fused.detail.endswith("— subnet NSG corp rule DenyAll denies it")
    v6 = fuse(OK_OWN, True, AZ_DOWN, ipv6=True)
    assert "link-local" in v6.detail and "168.63.129.16" not in v6.detail


def test_azure_down_detail_says_azures_reason_in_words():
    fused = fuse(NOT_PROBED_OWN, None, AZ_DOWN)
    assert fused.detail.startswith("Azure: Down, its TCP probe gets no answer")


@pytest.mark.parametrize(
    ("outs", "blind"),
    [
        ([outcomes.TIMEOUT, outcomes.TIMEOUT], True),
        ([outcomes.UNREACHABLE, outcomes.TIMEOUT], True),
        ([outcomes.TIMEOUT, outcomes.REFUSED], False),  # a refusal is an answer from the node
        ([outcomes.TIMEOUT, outcomes.OK], False),
        ([], False),  # nothing tried is not blind
    ],
)
def test_blind_round(outs, blind):
    assert blind_round(ProbeResult(T, o) for o in outs) is blind


@pytest.mark.parametrize(
    ("outcome", "blind", "expected"),
    [
        (outcomes.OK, False, True),
        (outcomes.REFUSED, True, True),
        (outcomes.HTTP_STATUS, False, True),
        (outcomes.UNREACHABLE, False, False),  # no route is never an answer
        (outcomes.TIMEOUT, False, True),
        (outcomes.TIMEOUT, True, False),
    ],
)
def test_reached(outcome, blind, expected):
    assert reached(ProbeResult(T, outcome), blind=blind) is expected


def test_no_result_is_not_probed():
    assert reached(None, blind=True) is None


@pytest.mark.parametrize(
    ("health", "state"),
    [(AZ_UP, UP), (AZ_DOWN, DOWN), (AZ_EMPTY, None), (None, None), (AzureHealth(" up ", None), UP)],
)
def test_azure_state(health, state):
    assert azure_state(health) == state
