"""Azure's rule-health answers joined to pool members, and what a disagreement means (pure)."""

from __future__ import annotations

import pytest

from akslbctl.analysis.azureview import (
    AZURE_FAILS,
    AZURE_SUCCEEDS,
    DISAGREEMENT,
    Disagreement,
    azure_probe_result,
    azure_view,
    direction,
    disagreement_findings,
    no_probe_note,
    unavailable_note,
)
from akslbctl.analysis.engine import analyse
from akslbctl.collect import case_from_raw
from akslbctl.lab.cluster import AksBuilder
from akslbctl.model.case import RawDocuments
from akslbctl.model.report import AzureHealth


def analysis_of(builder: AksBuilder):
    c = builder.build()
    try:
        raw = RawDocuments(
            service=c.service(c.main_service),
            nodes=tuple(c.nodes),
            endpoint_slices=tuple(c.endpointslices),
            load_balancers=tuple(c.load_balancers),
            public_ips=tuple(c.public_ips),
            network_interfaces=tuple(c.nics),
        )
        return analyse(case_from_raw(raw, subscription=c.subscription, resource_group=c.node_resource_group)), c
    finally:
        c.release()


@pytest.fixture(scope="module")
def tcp():
    b = AksBuilder(name="azureview", octet=61)
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    return analysis_of(b)


def rule_and_members(analysis):
    (rule,) = analysis.match.rules
    return rule, sorted(rule.members, key=lambda m: m.address)


def test_joins_by_ip_address_and_empty_values_become_none(tcp):
    analysis, _ = tcp
    rule, members = rule_and_members(analysis)
    doc = {
        "up": 1,
        "down": 1,
        "loadBalancerBackendAddresses": [
            {"ipAddress": members[0].address, "state": "Up", "reason": "Up_Probe_Success"},
            {"ipAddress": members[1].address, "state": "Down", "reason": "Down_Probe_TcpProbeTimeout"},
            {"ipAddress": members[2].address, "state": "", "reason": ""},  # VM off: empty values
            {"ipAddress": "10.9.9.9", "state": "Up", "reason": "Up_Probe_Success"},  # no member of ours
        ],
    }
    view = azure_view(analysis, {rule.rule.name.upper(): doc})
    assert view == {
        rule.rule.name.lower(): {
            members[0].address: AzureHealth("Up", "Up_Probe_Success"),
            members[1].address: AzureHealth("Down", "Down_Probe_TcpProbeTimeout"),
            members[2].address: AzureHealth(None, None),
        }
    }


def test_falls_back_to_the_ipconfiguration_id_case_insensitively(tcp):
    analysis, _ = tcp
    rule, members = rule_and_members(analysis)
    ipconfig = members[1].member.ipconfig_id
    assert ipconfig
    doc = {
        "load_balancer_backend_addresses": [  # the snake_case of older SDKs
            {"ip_address": "", "network_interface_ip_configuration_id": ipconfig.upper(), "state": "Down",
             "reason": "Down_Probe_TcpProbeTimeout"},
            {"networkInterfaceIPConfigurationId": {"id": members[2].member.ipconfig_id.lower()}, "state": "Up",
             "reason": "Up_Probe_Success"},
        ]
    }  # fmt: skip
    view = azure_view(analysis, {rule.rule.name: doc})[rule.rule.name.lower()]
    assert view == {
        members[1].address: AzureHealth("Down", "Down_Probe_TcpProbeTimeout"),
        members[2].address: AzureHealth("Up", "Up_Probe_Success"),
    }


def test_documents_for_unknown_rules_are_ignored(tcp):
    analysis, _ = tcp
    assert azure_view(analysis, {"someone-elses-rule": {"loadBalancerBackendAddresses": []}}) == {}


@pytest.mark.parametrize(
    ("state", "reason", "raw"),
    [
        ("Up", "Up_Probe_Success", True),
        ("Up", "Up_Probe_ApproachingUnhealthyThreshold", False),
        ("Up", "Up_Probe_AllDownIsUp", False),
        ("Down", "Down_Probe_ApproachingHealthyThreshold", True),
        ("Down", "Down_Probe_HttpStatusCodeError", False),
        ("Down", "Down_Probe_TcpProbeTimeout", False),
        ("Up", "Up_Admin", None),
        ("Down", "Down_Admin", None),
        ("Down", "Down_Platform", None),
        (None, "NA", None),
        (None, None, None),
        ("Down", "Down_SomethingNew", False),  # an unknown reason: the state decides
    ],
)
def test_azures_raw_probe_result_from_state_and_reason(state, reason, raw):
    assert azure_probe_result(AzureHealth(state, reason)) is raw


def test_direction():
    assert direction(True, AzureHealth("Down", "Down_Probe_TcpProbeTimeout")) == AZURE_FAILS
    assert direction(False, AzureHealth("Up", "Up_Probe_Success")) == AZURE_SUCCEEDS
    assert direction(False, AzureHealth("Up", "Up_Probe_ApproachingUnhealthyThreshold")) is None
    assert direction(True, AzureHealth("Down", "Down_Admin")) is None
    assert direction(True, None) is None


def test_findings_group_per_rule_and_direction(tcp):
    analysis, _ = tcp
    rule, _ = rule_and_members(analysis)
    name = rule.rule.name
    down = AzureHealth("Down", "Down_Probe_TcpProbeTimeout")
    up = AzureHealth("Up", "Up_Probe_Success")
    findings = disagreement_findings(
        [Disagreement(name, AZURE_FAILS, f"n{i}", down, "ok") for i in range(7)]
        + [Disagreement(name, AZURE_SUCCEEDS, "n9", up, "timeout")],
        service=analysis.case.service,
        probes={name: rule.probe},
        source="10.0.0.9",
    )
    assert [(f.code, f.severity, f.rule, f.node) for f in findings] == [
        (DISAGREEMENT, "warning", name, None),
        (DISAGREEMENT, "warning", name, "n9"),
    ]
    fails, succeeds = findings
    assert "7 nodes (n0, n1, n2, n3, n4, …)" in fails.message
    assert "ours from 10.0.0.9 succeed" in fails.message and "NSG" in fails.message
    assert "Local" not in fails.message  # a Cluster Service: no Local-policy DROP hint
    assert "node n9" in succeeds.message and "(timeout)" in succeeds.message
    assert "2 consecutive failure(s), one every 5 s" in succeeds.message


def test_local_tcp_nodeport_probe_mentions_the_drop_only_off_node_sources_see():
    b = AksBuilder(name="azureview-local", octet=62)
    b.add_service("web", ports=[{"port": 80, "nodePort": 31085}], policy="Local", endpoints_on=[0])
    b.set_probe("web", 80, protocol="Tcp", port=31085)  # a Tcp probe on the nodePort, not the health port
    analysis, _ = analysis_of(b)
    (rule,) = analysis.match.rules
    (finding,) = disagreement_findings(
        [Disagreement(rule.rule.name, AZURE_FAILS, "n1", AzureHealth("Down", "Down_Probe_TcpProbeTimeout"), "ok")],
        service=analysis.case.service,
        probes={rule.rule.name: rule.probe},
        source=None,
    )
    assert "externalTrafficPolicy: Local" in finding.message and "off-node" in finding.message
    assert "ours from this machine" in finding.message


def test_notes():
    assert unavailable_note({}) is None
    one = unavailable_note({"r1": "missing permission for the rule-health operation (403 AuthorizationFailed)"})
    assert one.startswith("Azure's own view (rule health) is unavailable: missing permission")
    two = unavailable_note({"r1": "x", "r2": "x"})
    assert "for 2 rules: x." in two
    assert no_probe_note([]) is None
    assert no_probe_note(["r-UDP-53"]) == (
        "Azure reports no health for r-UDP-53: it has no probe, and the LB sends to every pool member."
    )
