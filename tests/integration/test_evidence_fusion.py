"""The LB's verdict (contract §5.1), end to end: the real CLI against the lab's Kubernetes API and ARM,
real probes against node listeners on 127.x — Azure's view, our probe and the NSG path fused.

Each scenario is a support situation: a laptop outside the VNet with and without Azure's view, an NSG
that drops 168.63.129.16 at subnet or NIC level, a subnet NSG without the client allow rule, dual-stack
with the IPv6 probe down, a Private Link Service with proxy protocol, a BYO VNet we may not read.
"""

from __future__ import annotations

from support import cli, codes, node_rows

from akslbctl.errors import ExitCode
from akslbctl.lab.cluster import AksBuilder

NODES = [f"aks-nodepool1-12345678-vmss00000{i}" for i in range(3)]


def explain(*extra: str):
    result = cli("explain", "svc/web", "-o", "json", "--timeout", "1", *extra)
    return result, result.json


def verdicts(doc: dict, rule: int = 0) -> list[tuple[str, str]]:
    rows = node_rows(doc, rule)
    return [(rows[n]["verdict"], rows[n]["reason"]) for n in NODES]


def finding(doc: dict, code: str) -> dict:
    return next(f for f in doc["findings"] if f["code"] == code)


# -- vantage --------------------------------------------------------------------------------------


def test_laptop_with_azures_view_gets_the_lbs_verdict_not_dark(lab):
    lab("laptop-azure-up")
    result, doc = explain()
    # Before: DARK, no-healthy-backend, exit 1. Now Azure's view decides; node 2 is out by design.
    assert result.exit_code == ExitCode.OK, result.stderr
    assert verdicts(doc) == [("up", "azure-up"), ("up", "azure-up"), ("down", "azure-down")]
    assert doc["rules"][0]["up"] == 2 and doc["rules"][0]["down"] == 1
    assert "no-healthy-backend" not in codes(doc) and "endpoint-probe-disagreement" not in codes(doc)
    assert "azure-probe-disagreement" not in codes(doc)  # our probe never got there: nothing to compare
    vantage = finding(doc, "vantage-unreachable")
    assert vantage["severity"] == "warning" and "127.0.0.1" in vantage["message"]
    assert "Azure's own view" in vantage["message"]
    assert doc["vantageSource"] == "127.0.0.1"
    rows = node_rows(doc)
    assert rows[NODES[0]]["observed"]["outcome"] == "timeout"  # our failure stays as detail
    assert "could not reach the node from 127.0.0.1" in rows[NODES[0]]["detail"]
    assert "kube-proxy" not in rows[NODES[0]]["detail"]  # no guessed cause for a probe that never arrived


def test_laptop_without_azures_view_is_unknown_and_exit_3(lab):
    lab("laptop-no-azure")
    result, doc = explain()
    assert result.exit_code == ExitCode.NO_EVIDENCE
    assert result.stderr.count("\n") == 1 and "no verdict for default/web" in result.stderr
    assert set(verdicts(doc)) == {("unknown", "unreachable-from-here")}
    assert doc["rules"][0]["up"] == doc["rules"][0]["down"] == 0
    assert "no-healthy-backend" not in codes(doc)
    vantage = finding(doc, "vantage-unreachable")
    assert "loadBalancingRules/health/action" in vantage["message"] and "VNet" in vantage["message"]
    table = cli("explain", "svc/web", "--timeout", "1")
    assert table.exit_code == ExitCode.NO_EVIDENCE
    assert "DARK" not in table.stdout and "NO VERDICT" in table.stdout
    assert "Probes   " in table.stdout  # no Azure view: where the probes came from matters


def test_laptop_probe_rounds_follow_azure_and_never_say_down(lab):
    lab("laptop-azure-up")
    result = cli("probe", "svc/web", "-o", "json", "--count", "1", "--timeout", "1")
    assert result.exit_code == ExitCode.OK, result.stderr
    import json

    (round_doc,) = [json.loads(line) for line in result.stdout.splitlines()]
    nodes = {n["name"]: n for n in round_doc["probes"][0]["nodes"]}
    assert [(nodes[n]["state"], nodes[n]["stateFrom"]) for n in NODES] == [
        ("up", "azure"),
        ("up", "azure"),
        ("down", "azure"),
    ]


def test_laptop_probe_rounds_without_azure_are_unknown(lab):
    lab("laptop-no-azure")
    result = cli("probe", "svc/web", "-o", "json", "--count", "2", "--timeout", "0.5", "--interval", "0")
    assert result.exit_code == ExitCode.NO_EVIDENCE
    import json

    last = json.loads(result.stdout.splitlines()[-1])
    assert {(n["state"], n["stateFrom"]) for n in last["probes"][0]["nodes"]} == {(None, None)}


def test_no_route_is_never_down(lab):
    """A rule whose members this machine has no route to (an IPv6 rule from an IPv4-only host) is
    unknown for that rule and named as this machine's position, while the other rule keeps its verdict.

    Real evidence from the lab; the results are what the kernel answers without an IPv6 route (the lab
    cannot take this machine's IPv6 routes away).
    """
    from akslbctl.analysis.engine import analyse, probe_plan
    from akslbctl.analysis.verdict import diagnose
    from akslbctl.collect import Target, collect
    from akslbctl.model import probe as outcomes
    from akslbctl.model.probe import ProbeResult
    from akslbctl.sources.arm import ArmOptions
    from akslbctl.sources.kube import KubeOptions

    lab("dualstack-ipv6-down")
    analysis = analyse(collect(Target("default", "web"), KubeOptions(), ArmOptions()))
    results = {}
    for t in probe_plan(analysis):
        outcome = outcomes.UNREACHABLE if ":" in t.address else outcomes.OK
        results[t] = ProbeResult(t, outcome, error="network is unreachable")
    d = diagnose(analysis, results, source="10.1.0.5")
    v6 = next(r for r in d.rules if r.name.endswith("-IPv6"))
    assert {(n.verdict, n.reason) for n in v6.nodes} == {("unknown", "unreachable-from-here")}
    v4 = next(r for r in d.rules if not r.name.endswith("-IPv6"))
    assert {n.verdict for n in v4.nodes} == {"up"}
    per_rule = [f for f in d.findings if f.code == "vantage-unreachable"]
    assert [f.rule for f in per_rule] == [v6.name] and "10.1.0.5" in per_rule[0].message
    assert "no-healthy-backend" not in {f.code for f in d.findings}


# -- NSGs -----------------------------------------------------------------------------------------


def _blocked(doc: dict, nsg: str, rule: str, level: str) -> None:
    assert set(verdicts(doc)) == {("down", "blocked-before-node")}
    assert "no-healthy-backend" in codes(doc)
    blocked = finding(doc, "nsg-blocks-probe")
    assert blocked["severity"] == "error"
    assert f"{level} NSG {nsg} rule {rule} (priority 400, Deny)" in blocked["message"]
    assert "3/3 pool member(s)" in blocked["message"] and "65001" in blocked["message"]
    for row in doc["rules"][0]["nodes"]:
        assert row["azure"]["state"] == "Down" and row["observed"]["outcome"] == "ok"
        assert f"NSG {nsg} rule {rule}" in row["detail"]  # the blocker, named in the verdict's detail
    # The path names the cause: no generic disagreement on top of it.
    assert "azure-probe-disagreement" not in codes(doc)


def test_subnet_nsg_denying_the_probe_source(lab):
    lab("nsg-subnet-blocks-probe")
    result, doc = explain()
    assert result.exit_code == ExitCode.PROBLEM
    _blocked(doc, "custom-subnet-nsg", "DenyInternet", "subnet")


def test_nic_nsg_denying_the_probe_source(lab):
    lab("nsg-nic-blocks-probe")
    result, doc = explain()
    assert result.exit_code == ExitCode.PROBLEM
    _blocked(doc, "aks-agentpool-12345678-nsg", "DenyAzureLB", "NIC")


def test_nsg_blocks_probe_scenario_names_the_rule_and_the_tag(lab):
    lab("nsg-blocks-probe")
    result, doc = explain()
    # Before: a green "3 of 3 pool members up", exit 0. Now the LB's verdict: dark, with the cause.
    assert result.exit_code == ExitCode.PROBLEM
    _blocked(doc, "aks-agentpool-12345678-nsg", "DenyAzureLoadBalancerInBound", "NIC")
    table = cli("explain", "svc/web", "--timeout", "1")
    assert "DARK" in table.stdout and "3 of 3" not in table.stdout


def test_nsg_evaluation_alone_flags_the_probe_without_azures_view(lab):
    lab("nsg-nic-blocks-probe")
    result, doc = explain("--no-azure-health")
    # Our probe reached the nodes, so by authority they are up; the NSG still says the LB's probe dies.
    assert set(verdicts(doc)) == {("up", "probe-ok")}
    assert result.exit_code == ExitCode.PROBLEM
    assert "nsg-blocks-probe" in codes(doc)


HUB = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"


def test_a_hub_vnet_in_another_subscription_is_read_there(lab):
    cluster = (
        AksBuilder(name="hub-vnet")
        .add_service("web", ports=[{"port": 80, "nodePort": 30396}])
        .byo_vnet("rg-hub", "hub-vnet", subscription=HUB)
        .block_probe_source("subnet", "DenyInternet", 400)
        .build()
    )
    lab(cluster)
    result, doc = explain()
    assert result.exit_code == ExitCode.PROBLEM
    # The subnet and its NSG live in the hub's subscription: read there, the deny is found and named.
    _blocked(doc, "custom-subnet-nsg", "DenyInternet", "subnet")
    assert not [n for n in doc["notes"] if "not found" in n.lower() or "could not" in n.lower()], doc["notes"]


def test_subnet_nsg_without_the_client_rule_is_up_but_blocked(lab):
    lab("nsg-subnet-no-client-rule")
    result, doc = explain()
    # Before: "3 of 3 pool members up", exit 0, and -A said nothing wrong.
    assert result.exit_code == ExitCode.PROBLEM
    assert set(verdicts(doc)) == {("up", "probe-ok")}  # the LB sends traffic: the node stays up
    blocked = finding(doc, "nsg-blocks-clients")
    ip = doc["loadBalancer"]["frontends"][0]["ip"]
    assert f"Internet → {ip}:80/Tcp" in blocked["message"]
    assert "subnet NSG custom-subnet-nsg rule DenyAllInBound (priority 65500)" in blocked["message"]
    assert "allows it (k8s-azure-lb_allow_IPv4_" in blocked["message"]  # the node NSG has the provider's rule
    assert "nsg-blocks-probe" not in codes(doc)
    many = cli("explain", "-A", "--timeout", "1")
    assert many.exit_code == ExitCode.PROBLEM and "nothing wrong" not in many.stdout
    assert "nsg-blocks-clients" in many.stdout


def test_source_ranges_are_the_clients(lab):
    b = AksBuilder(name="source-ranges")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], source_ranges=["203.0.113.0/24"])
    b.subnet_nsg()
    b.nsg_rule("subnet", "AllowPartner", 300, "Allow", source="203.0.113.0/24", ports="80", protocol="Tcp")
    lab(b.build())
    result, doc = explain()
    assert result.exit_code == ExitCode.OK, [f["message"] for f in doc["findings"]]
    assert "nsg-blocks-clients" not in codes(doc)


def test_unresolvable_rules_are_notes_never_guesses(lab):
    b = AksBuilder(name="asg")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}])
    b.nsg_rule("nic", "DenyFromAsg", 300, "Deny", source_asgs=["/subscriptions/s/resourceGroups/g/providers/x/asg1"])
    lab(b.build())
    result, doc = explain()
    assert result.exit_code == ExitCode.OK, [f["message"] for f in doc["findings"]]
    assert not {"nsg-blocks-probe", "nsg-blocks-clients"} & set(codes(doc))
    assert any("could not evaluate rule DenyFromAsg" in n for n in doc["notes"])


def test_unreadable_byo_vnet_is_a_note_not_a_failure(lab):
    lab("nsg-byo-vnet-forbidden")
    result, doc = explain()
    assert result.exit_code == ExitCode.OK, result.stderr
    assert set(verdicts(doc)) == {("up", "probe-ok")}
    assert any("403" in n and "corp-vnet" in n for n in doc["notes"])
    assert not {"nsg-blocks-probe", "nsg-blocks-clients"} & set(codes(doc))


# -- dual-stack and Private Link ------------------------------------------------------------------


def test_dual_stack_ipv6_rule_down_while_ipv4_up(lab):
    lab("dualstack-ipv6-down")
    result, doc = explain()
    assert result.exit_code == ExitCode.PROBLEM
    by_name = {r["name"]: r for r in doc["rules"]}
    (v6,) = [r for r in by_name if r.endswith("-IPv6")]
    (v4,) = [r for r in by_name if not r.endswith("-IPv6")]
    assert {(n["verdict"], n["reason"]) for n in by_name[v4]["nodes"]} == {("up", "probe-ok")}
    assert {(n["verdict"], n["reason"]) for n in by_name[v6]["nodes"]} == {("down", "blocked-before-node")}
    assert all("link-local" in n["detail"] for n in by_name[v6]["nodes"])
    named = finding(doc, "ipv6-probe-down")
    assert named["rule"] == v6 and v4 in named["message"] and "Cilium" in named["message"]
    assert "cilium/cilium#25242" in named["message"]
    no_backend = [f for f in doc["findings"] if f["code"] == "no-healthy-backend"]
    assert [f["rule"] for f in no_backend] == [v6]
    assert "azure-probe-disagreement" not in codes(doc)


def test_clients_denied_only_count_on_members_the_lb_sends_to(lab):
    cluster = (
        AksBuilder(name="local-subnet-nsg")
        .add_service("web", policy="Local", health_check_node_port=32649, endpoints_on=[0])
        .subnet_nsg()
        .build()
    )
    lab(cluster)
    result, doc = explain()
    assert result.exit_code == ExitCode.PROBLEM
    assert [v for v, _ in verdicts(doc)] == ["up", "down", "down"]  # Local: two nodes out by design
    blocked = finding(doc, "nsg-blocks-clients")
    assert "on 1/3 pool member(s) (aks-nodepool1-12345678-vmss000000)" in blocked["message"]
    assert blocked["node"] == NODES[0]
    idle = [n for n in doc["notes"] if "also denies" in n]
    assert len(idle) == 1 and "on 2 member(s) the LB treats as down" in idle[0] and NODES[1] in idle[0]


def test_nsg_denying_the_lb_tag_on_a_dual_stack_service_names_each_familys_probe_source(lab):
    cluster = (
        AksBuilder(name="dual-nsg", data_plane="cilium")
        .add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1], ip_families=("IPv4", "IPv6"))
        .block_probe_source("nic", "DenyAzureLB", 400, source="AzureLoadBalancer")
        .build()
    )
    lab(cluster)
    result, doc = explain()
    assert result.exit_code == ExitCode.PROBLEM
    blocked = {f["rule"]: f["message"] for f in doc["findings"] if f["code"] == "nsg-blocks-probe"}
    (v6,) = [r for r in blocked if r.endswith("-IPv6")]
    (v4,) = [r for r in blocked if not r.endswith("-IPv6")]
    # Azure's IPv6 probes come from a link-local source, not the IPv4 host address.
    assert "denies 168.63.129.16 (AzureLoadBalancer)" in blocked[v4]
    assert "168.63.129.16" not in blocked[v6] and "denies fe80::/10 (AzureLoadBalancer)" in blocked[v6]


def test_private_link_proxy_protocol_is_named(lab):
    lab("pls-proxy-protocol")
    result, doc = explain()
    assert result.exit_code == ExitCode.PROBLEM
    rows = node_rows(doc)
    assert [(rows[n]["verdict"], rows[n]["reason"]) for n in NODES[:2]] == [("down", "blocked-before-node")] * 2
    assert "Private Link Service pls-" in rows[NODES[0]]["detail"]
    assert (rows[NODES[2]]["verdict"], rows[NODES[2]]["reason"]) == ("down", "http-status")  # 503 by design
    pls = finding(doc, "pls-proxy-protocol")
    assert pls["severity"] == "error" and "2/3" in pls["message"] and "PROXY header" in pls["message"]


def test_private_link_proxy_protocol_with_azure_up_raises_no_warning(lab):
    b = AksBuilder(name="pls-up", version="v1.27.3")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31001}],
        policy="Local",
        health_check_node_port=32001,
        internal=True,
        endpoints_on=[0, 1],
    )
    b.private_link("default/web", proxy_protocol=True)
    for i in (0, 1):
        b.azure_says(i, None, "Up", "Up")
    b.azure_says(2, None, "Down", "Down_Probe_HttpStatusCodeError")
    lab(b.build())
    result, doc = explain()
    assert [v for v, _ in verdicts(doc)] == ["up", "up", "down"]
    assert "pls-proxy-protocol" not in codes(doc)  # Azure's probe gets through: no PROXY-header guess


# -- rendering follows the fused verdict ----------------------------------------------------------


def test_tree_and_table_show_azures_view(lab):
    lab("laptop-azure-up")
    tree = cli("explain", "svc/web", "--tree", "--timeout", "1")
    assert tree.exit_code == ExitCode.OK
    assert "Azure says: up: probe succeeds" in tree.stdout and "2 of 3 pool members up" in tree.stdout
    table = cli("explain", "svc/web", "--timeout", "1")
    assert "AZURE SAYS" in table.stdout and "DARK" not in table.stdout
    assert "2 of 3 pool members up" in table.stdout


def test_probes_line_only_when_it_carries_signal(lab):
    lab("cluster-tcp")
    agreeing = cli("explain", "svc/web")
    assert agreeing.exit_code == ExitCode.OK and "Probes   " not in agreeing.stdout
    without = cli("explain", "svc/web", "--no-azure-health")
    assert "Probes   sent from" in without.stdout
