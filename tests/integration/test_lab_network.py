"""The lab's network path driven by the real clients: VNets, subnets, NSGs, Private Link Services and
VMSS NICs through ``azure-mgmt-network``; 403 scopes; the "laptop" vantage point whose connects time
out while Azure's view stays put; dual-stack nodes on IPv4-mapped IPv6 addresses (the only IPv6 form
that reaches a 127.x listener: traffic stays on loopback).

Labs pick their own 127.<octet>.0.0/16 range, as in test_lab.py.
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import json
import socket
import time

import pytest

from akslbctl.lab import scenarios
from akslbctl.lab.behaviours import Blackhole, Closed
from akslbctl.lab.cluster import AksBuilder, LabCluster
from akslbctl.lab.runner import Lab

VMSS = "aks-nodepool1-12345678-vmss"
NODE_NSG = "aks-agentpool-12345678-nsg"
DEFAULT_RULES = [
    ("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*"),
    ("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*"),
    ("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet"),
    ("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*"),
]

# ---------------------------------------------------------------------------------------------
# Helpers: the real clients, configured as a user would


class StaticToken:
    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: object):
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)


def arm_client(lab: Lab, **kwargs):
    from azure.mgmt.network import NetworkManagementClient

    kwargs.setdefault("retry_total", 0)
    return NetworkManagementClient(StaticToken(lab.arm_token), lab.cluster.subscription, base_url=lab.arm_url, **kwargs)


def health(lab: Lab, rule: str, lb: str = "kubernetes") -> dict[str, tuple[str, str]]:
    """Azure's rule health through the SDK's long-running poller: member address → (state, reason)."""
    poller = arm_client(lab).load_balancer_load_balancing_rules.begin_health(
        lab.cluster.node_resource_group, lb, rule, enforce_https=False, polling_interval=0
    )
    return {a.ip_address: (a.state, a.reason) for a in poller.result().load_balancer_backend_addresses}


def prefix_of(cluster: LabCluster, ref: str = "default/web") -> str:
    return ("a" + cluster.service(ref)["metadata"]["uid"].replace("-", ""))[:32]


def connect(address: str, port: int, timeout: float = 0.5) -> str:
    """'open', 'refused' or 'timeout' for a TCP connect (IPv4 or IPv6)."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return "open"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"


def http_get(address: str, port: int, path: str = "/") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(address, port, timeout=2)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def md5_name(family: str, protocol: str, sources: list[str], ports: list[str]) -> str:
    """cloud-provider-azure's GenerateAllowSecurityRuleName, written out independently."""
    text = "_".join([protocol, ",".join(sorted(sources)), ",".join(sorted(ports))])
    return f"k8s-azure-lb_allow_{family}_{hashlib.md5(text.encode()).hexdigest()}"


def forbidden(call) -> str | None:
    """The action named by a 403 AuthorizationFailed, None when the call succeeds."""
    from azure.core.exceptions import HttpResponseError

    try:
        result = call()
        if hasattr(result, "__iter__") and not isinstance(result, (str, dict)):
            list(result)
    except HttpResponseError as exc:
        assert exc.status_code == 403, exc
        assert exc.error.code == "AuthorizationFailed"
        return exc.error.message.split("perform action '")[1].split("'")[0]
    return None


# ---------------------------------------------------------------------------------------------
# VNet, subnet, NSGs, NICs


@pytest.fixture(scope="module")
def net_lab():
    cluster = (
        AksBuilder(name="net-read")
        .add_service("web", ports=[{"port": 80, "nodePort": 30396}, {"port": 443, "nodePort": 30443}])
        .add_service(
            "api", ports=[{"port": 8080, "nodePort": 30808}], source_ranges=["203.0.113.0/24", "198.51.100.0/24"]
        )
        .add_service("store", namespace="shop", ports=[{"port": 5432, "nodePort": 30543}], internal=True)
        .nsg_rule(
            "nic",
            "AllowCorpHttps",
            300,
            "Allow",
            source=["10.10.0.0/16", "10.20.0.0/16"],
            destination="VirtualNetwork",
            ports=["443", "8443"],
            protocol="Tcp",
        )
        .nsg_rule("subnet", "DenyFromJumpboxes", 310, "deny", source_asgs=["jumpboxes"], ports=22, protocol="tcp")
        .peer_vnet(["10.100.0.0/16", "10.101.0.0/16"], name="to-hub", remote_vnet="hub-vnet")
        .peer_vnet(["10.200.0.0/16"], name="half-done", state="Initiated")
        .build()
    )
    with Lab(cluster, listeners=False) as lab:
        yield lab


def test_vnet_with_its_subnet_and_peerings(net_lab: Lab):
    c = net_lab.cluster
    rg, octet = c.node_resource_group, c.address_octet
    client = arm_client(net_lab)
    vnet = client.virtual_networks.get(rg, "aks-vnet-12345678", enforce_https=False)
    assert vnet.id == c.virtual_networks[0]["id"] and vnet.location == "westeurope" and vnet.etag
    assert vnet.address_space.address_prefixes == [f"127.{octet}.0.0/16", "10.224.0.0/12"]
    space = [ipaddress.ip_network(p) for p in vnet.address_space.address_prefixes]
    assert all(any(ipaddress.ip_address(net_lab.address(i)) in n for n in space) for i in range(3))
    assert [s.name for s in vnet.subnets] == ["aks-subnet"]
    nsg_id = f"{vnet.id.split('/providers/')[0]}/providers/Microsoft.Network/networkSecurityGroups/custom-subnet-nsg"
    assert vnet.subnets[0].network_security_group.id == nsg_id
    peerings = {p.name: p for p in vnet.virtual_network_peerings}
    assert peerings["to-hub"].remote_address_space.address_prefixes == ["10.100.0.0/16", "10.101.0.0/16"]
    assert peerings["to-hub"].remote_virtual_network.id.endswith(
        "/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/hub-vnet"
    )
    assert (peerings["to-hub"].peering_state, peerings["half-done"].peering_state) == ("Connected", "Initiated")
    assert [p.name for p in client.virtual_network_peerings.list(rg, vnet.name, enforce_https=False)] == [
        "to-hub",
        "half-done",
    ]
    assert [v.name for v in client.virtual_networks.list(rg, enforce_https=False)] == [vnet.name]
    assert [v.name for v in client.virtual_networks.list_all(enforce_https=False)] == [vnet.name]

    subnet = client.subnets.get(rg, vnet.name, "aks-subnet", enforce_https=False)
    assert subnet.id == vnet.subnets[0].id
    assert subnet.address_prefixes == [f"127.{octet}.0.0/16", "10.224.0.0/16"]
    assert subnet.network_security_group.id == nsg_id
    refs = {r.id.lower() for r in subnet.ip_configurations}
    nic_ipconfigs = {ipc["id"].lower() for n in c.nics for ipc in n["properties"]["ipConfigurations"]}
    assert nic_ipconfigs <= refs  # and the internal LB's frontend
    internal_fe = c.load_balancer("kubernetes-internal")["properties"]["frontendIPConfigurations"][0]["id"]
    assert internal_fe.lower() in refs
    assert [s.name for s in client.subnets.list(rg, vnet.name, enforce_https=False)] == ["aks-subnet"]
    assert net_lab.writes == []  # reads are GETs, never recorded as writes


def test_node_nsg_holds_the_providers_allow_rules_and_the_custom_ones(net_lab: Lab):
    c = net_lab.cluster
    rg = c.node_resource_group
    client = arm_client(net_lab)
    nsg = client.network_security_groups.get(rg, NODE_NSG, enforce_https=False)
    assert nsg.location == "westeurope" and nsg.etag
    defaults = [
        (
            r.name,
            r.priority,
            r.direction,
            r.access,
            r.source_address_prefix,
            r.destination_address_prefix,
            r.protocol,
            r.source_port_range,
            r.destination_port_range,
        )
        for r in nsg.default_security_rules
    ]
    assert defaults == [(*d, "*", "*", "*") for d in DEFAULT_RULES]

    rules = {r.name: r for r in nsg.security_rules}
    web_fe = c.service("default/web")["status"]["loadBalancer"]["ingress"][0]["ip"]
    api_fe = c.service("default/api")["status"]["loadBalancer"]["ingress"][0]["ip"]
    web = rules[md5_name("IPv4", "Tcp", ["Internet"], ["80", "443"])]
    assert (web.priority, web.access, web.direction, web.protocol) == (500, "Allow", "Inbound", "Tcp")
    assert (web.source_address_prefix, web.source_port_range) == ("Internet", "*")
    assert web.destination_address_prefix == web_fe
    assert web.destination_port_ranges == ["443", "80"]  # sorted as strings, always the plural
    api = rules[md5_name("IPv4", "Tcp", ["203.0.113.0/24", "198.51.100.0/24"], ["8080"])]
    assert api.priority == 501
    assert api.source_address_prefixes == ["198.51.100.0/24", "203.0.113.0/24"]
    assert (api.destination_address_prefix, api.destination_port_ranges) == (api_fe, ["8080"])
    # The internal Service gets no allow rule; VNet traffic relies on AllowVnetInBound.
    assert set(rules) == {web.name, api.name, "AllowCorpHttps"}
    corp = rules["AllowCorpHttps"]
    assert (corp.priority, corp.access, corp.protocol) == (300, "Allow", "Tcp")
    assert corp.source_address_prefixes == ["10.10.0.0/16", "10.20.0.0/16"] and corp.source_address_prefix is None
    assert (corp.destination_address_prefix, corp.destination_port_ranges) == ("VirtualNetwork", ["443", "8443"])
    assert corp.destination_port_range is None
    assert {r.id.lower() for r in nsg.network_interfaces} == {n["id"].lower() for n in c.nics}

    # The rule collections and their members have routes of their own.
    listed = client.security_rules.list(rg, NODE_NSG, enforce_https=False)
    assert sorted(r.name for r in listed) == sorted(rules)
    deny = client.default_security_rules.get(rg, NODE_NSG, "DenyAllInBound", enforce_https=False)
    assert (deny.priority, deny.access) == (65500, "Deny")
    assert client.security_rules.get(rg, NODE_NSG, "AllowCorpHttps", enforce_https=False).priority == 300

    # The subnet NSG: the custom rule (source: an application security group) and the defaults.
    assert sorted(g.name for g in client.network_security_groups.list(rg, enforce_https=False)) == [
        NODE_NSG,
        "custom-subnet-nsg",
    ]
    assert len(list(client.network_security_groups.list_all(enforce_https=False))) == 2
    sub_nsg = client.network_security_groups.get(rg, "custom-subnet-nsg", enforce_https=False)
    (jump,) = sub_nsg.security_rules
    assert (jump.name, jump.priority, jump.access, jump.protocol) == ("DenyFromJumpboxes", 310, "Deny", "Tcp")
    assert jump.source_address_prefix is None and jump.source_address_prefixes == []
    assert [a.id for a in jump.source_application_security_groups] == [
        f"/subscriptions/{c.subscription}/resourceGroups/{rg}/providers/Microsoft.Network/"
        "applicationSecurityGroups/jumpboxes"
    ]
    assert (jump.destination_port_range, jump.destination_address_prefix) == ("22", "*")
    assert [r.name for r in sub_nsg.default_security_rules] == [d[0] for d in DEFAULT_RULES]
    assert [s.id for s in sub_nsg.subnets] == [c.virtual_networks[0]["properties"]["subnets"][0]["id"]]


def test_vmss_nics_carry_the_node_nsg_and_the_subnet(net_lab: Lab):
    c = net_lab.cluster
    rg = c.node_resource_group
    client = arm_client(net_lab)
    nics = list(
        client.network_interfaces.list_virtual_machine_scale_set_network_interfaces(rg, VMSS, enforce_https=False)
    )
    assert len(nics) == 3
    nsg_id = c.security_group(NODE_NSG)["id"]
    subnet_id = c.virtual_networks[0]["properties"]["subnets"][0]["id"]
    for i, nic in enumerate(nics):
        assert nic.network_security_group.id == nsg_id
        (ipc,) = nic.ip_configurations
        assert (ipc.name, ipc.private_ip_address, ipc.subnet.id) == ("ipconfig1", net_lab.address(i), subnet_id)


def test_lists_and_gets_follow_the_resource_group_the_ids_name():
    """BYO VNet: the VNet, its subnet and the subnet NSG in rg-network; the LB, NICs and node NSG in
    the node resource group. Each route serves its own group and nothing else."""
    from azure.core.exceptions import ResourceNotFoundError

    cluster = AksBuilder(name="byo").byo_vnet().add_service("web", internal=True).subnet_nsg().build()
    with Lab(cluster, listeners=False) as lab:
        client = arm_client(lab)
        rg = cluster.node_resource_group
        vnet = client.virtual_networks.get("rg-network", "corp-vnet", enforce_https=False)
        assert "/resourceGroups/rg-network/" in vnet.id
        subnet = client.subnets.get("RG-NETWORK", "corp-vnet", "aks-subnet", enforce_https=False)
        nsg = client.network_security_groups.get("rg-network", "custom-subnet-nsg", enforce_https=False)
        assert subnet.network_security_group.id == nsg.id and "/resourceGroups/rg-network/" in nsg.id
        nic = client.network_interfaces.get_virtual_machine_scale_set_network_interface(
            rg, VMSS, "0", VMSS, enforce_https=False
        )
        assert nic.ip_configurations[0].subnet.id == subnet.id
        assert "/resourceGroups/MC_rg_aks_westeurope/" in nic.network_security_group.id
        lb = client.load_balancers.get(rg, "kubernetes-internal", enforce_https=False)
        assert lb.frontend_ip_configurations[0].subnet.id == subnet.id
        assert list(client.virtual_networks.list(rg, enforce_https=False)) == []
        assert [g.name for g in client.network_security_groups.list(rg, enforce_https=False)] == [NODE_NSG]
        assert list(client.load_balancers.list("rg-network", enforce_https=False)) == []
        with pytest.raises(ResourceNotFoundError) as info:
            client.load_balancers.get("rg-network", "kubernetes-internal", enforce_https=False)
        assert info.value.error.code == "ResourceNotFound" and "rg-network" in info.value.error.message
        with pytest.raises(ResourceNotFoundError) as info:
            client.virtual_networks.get(rg, "corp-vnet", enforce_https=False)
        assert info.value.error.code == "ResourceNotFound"
        with pytest.raises(ResourceNotFoundError) as info:
            client.subnets.get("rg-network", "corp-vnet", "nope", enforce_https=False)
        assert info.value.error.code == "NotFound"
        with pytest.raises(ResourceNotFoundError) as info:
            client.virtual_networks.get("rg-nope", "corp-vnet", enforce_https=False)
        assert info.value.error.code == "ResourceGroupNotFound"


# ---------------------------------------------------------------------------------------------
# Forbidden scopes


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("vnet", {"vnet": "Microsoft.Network/virtualNetworks/read"}),
        ("subnet", {"subnet": "Microsoft.Network/virtualNetworks/subnets/read"}),
        (
            "nsg",
            {
                "node-nsg": "Microsoft.Network/networkSecurityGroups/read",
                "subnet-nsg": "Microsoft.Network/networkSecurityGroups/read",
                "nsg-list": "Microsoft.Network/networkSecurityGroups/read",
                "nsg-rules": "Microsoft.Network/networkSecurityGroups/securityRules/read",
            },
        ),
        (
            "pls",
            {
                "pls-list": "Microsoft.Network/privateLinkServices/read",
                "pls": "Microsoft.Network/privateLinkServices/read",
            },
        ),
        (
            "rg:rg-network",
            {
                "vnet": "Microsoft.Network/virtualNetworks/read",
                "subnet": "Microsoft.Network/virtualNetworks/subnets/read",
                "subnet-nsg": "Microsoft.Network/networkSecurityGroups/read",
            },
        ),
    ],
)
def test_each_scope_forbids_exactly_its_reads(scope: str, expected: dict[str, str]):
    cluster = (
        AksBuilder(name=f"forbid-{scope.replace(':', '-')}")
        .byo_vnet()
        .add_service("web", internal=True, policy="Local")
        .private_link()
        .subnet_nsg()
        .arm_forbidden(scope)
        .build()
    )
    with Lab(cluster, listeners=False) as lab:
        client = arm_client(lab)
        rg = cluster.node_resource_group
        pls = cluster.private_link_services[0]["name"]
        reads = {
            "vnet": lambda: client.virtual_networks.get("rg-network", "corp-vnet", enforce_https=False),
            "subnet": lambda: client.subnets.get("rg-network", "corp-vnet", "aks-subnet", enforce_https=False),
            "node-nsg": lambda: client.network_security_groups.get(rg, NODE_NSG, enforce_https=False),
            "subnet-nsg": lambda: client.network_security_groups.get(
                "rg-network", "custom-subnet-nsg", enforce_https=False
            ),
            "nsg-list": lambda: client.network_security_groups.list(rg, enforce_https=False),
            "nsg-rules": lambda: client.security_rules.list(rg, NODE_NSG, enforce_https=False),
            "pls-list": lambda: client.private_link_services.list(rg, enforce_https=False),
            "pls": lambda: client.private_link_services.get(rg, pls, enforce_https=False),
            "lb": lambda: client.load_balancers.get(rg, "kubernetes-internal", enforce_https=False),
            "nics": lambda: client.network_interfaces.list_virtual_machine_scale_set_network_interfaces(
                rg, VMSS, enforce_https=False
            ),
        }
        got = {what: action for what, call in reads.items() if (action := forbidden(call)) is not None}
        assert lab.writes == []
    assert got == expected


def test_arm_forbidden_rejects_unknown_scopes():
    with pytest.raises(ValueError, match="scope must be one of"):
        AksBuilder().arm_forbidden("vnets")
    with pytest.raises(ValueError):
        AksBuilder().arm_forbidden("rg:")


# ---------------------------------------------------------------------------------------------
# NSGs that block the probes, and subnet NSGs that block the clients


@pytest.mark.parametrize(
    ("scenario", "nsg", "rule", "source"),
    [
        ("nsg-subnet-blocks-probe", "custom-subnet-nsg", "DenyInternet", "*"),
        ("nsg-nic-blocks-probe", NODE_NSG, "DenyAzureLB", "*"),
        ("nsg-blocks-probe", NODE_NSG, "DenyAzureLoadBalancerInBound", "AzureLoadBalancer"),
    ],
)
def test_a_deny_on_the_probe_port_is_in_the_nsg_and_in_azures_view(scenario: str, nsg: str, rule: str, source: str):
    with Lab(scenario) as lab:
        c = lab.cluster
        client = arm_client(lab)
        group = client.network_security_groups.get(c.node_resource_group, nsg, enforce_https=False)
        deny = next(r for r in group.security_rules if r.name == rule)
        assert (deny.priority, deny.access, deny.direction) == (400, "Deny", "Inbound")
        assert (deny.source_address_prefix, deny.destination_address_prefix, deny.protocol) == (source, "*", "*")
        assert deny.destination_port_range == "30396"  # the probe port
        subnet = c.virtual_networks[0]["properties"]["subnets"][0]["properties"]
        assert ("networkSecurityGroup" in subnet) == (nsg == "custom-subnet-nsg")
        verdicts = health(lab, f"{prefix_of(c)}-TCP-80")
        assert verdicts == {lab.address(i): ("Down", "Down_Probe_TcpProbeTimeout") for i in range(3)}
        assert all(connect(lab.address(i), 30396) == "open" for i in range(3))


def test_block_probe_source_on_http_probes_says_no_response():
    cluster = (
        AksBuilder(name="block-http")
        .add_service("web", policy="Local", health_check_node_port=32649, endpoints_on=[0])
        .block_probe_source("subnet")
        .build()
    )
    try:
        assert set(cluster.rule_health_overrides.values()) == {("Down", "Down_Probe_HttpNoResponse")}
        assert len(cluster.rule_health_overrides) == 3
        rule = cluster.security_group("custom-subnet-nsg")["properties"]["securityRules"][0]["properties"]
        assert rule["destinationPortRange"] == "32649"
    finally:
        cluster.release()


def test_subnet_nsg_without_a_client_rule_still_lets_the_probes_through():
    with Lab("nsg-subnet-no-client-rule") as lab:
        c = lab.cluster
        client = arm_client(lab)
        group = client.network_security_groups.get(c.node_resource_group, "custom-subnet-nsg", enforce_https=False)
        assert group.security_rules == []
        assert [(r.name, r.priority) for r in group.default_security_rules][:3] == [
            ("AllowVnetInBound", 65000),
            ("AllowAzureLoadBalancerInBound", 65001),
            ("DenyAllInBound", 65500),
        ]
        subnet = client.subnets.get(c.node_resource_group, "aks-vnet-12345678", "aks-subnet", enforce_https=False)
        assert subnet.network_security_group.id == group.id
        # The node NSG keeps the provider's allow rule; only the subnet NSG lacks one.
        node = client.network_security_groups.get(c.node_resource_group, NODE_NSG, enforce_https=False)
        assert [r.name for r in node.security_rules] == [md5_name("IPv4", "Tcp", ["Internet"], ["80"])]
        assert health(lab, f"{prefix_of(c)}-TCP-80") == {lab.address(i): ("Up", "Up_Probe_Success") for i in range(3)}


def test_byo_vnet_forbidden_scenario_keeps_the_lb_and_node_nsg_readable():
    with Lab("nsg-byo-vnet-forbidden") as lab:
        c = lab.cluster
        client = arm_client(lab)
        subnet_id = c.nics[0]["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"]
        assert "/resourceGroups/rg-network/providers/Microsoft.Network/virtualNetworks/corp-vnet/" in subnet_id
        assert forbidden(lambda: client.virtual_networks.get("rg-network", "corp-vnet", enforce_https=False))
        assert forbidden(lambda: client.subnets.get("rg-network", "corp-vnet", "aks-subnet", enforce_https=False))
        assert (
            forbidden(lambda: client.network_security_groups.get(c.node_resource_group, NODE_NSG, enforce_https=False))
            is None
        )
        assert health(lab, f"{prefix_of(c)}-TCP-80") == {lab.address(i): ("Up", "Up_Probe_Success") for i in range(3)}


def test_provider_rules_by_version_floating_ip_and_family():
    legacy = (
        AksBuilder(name="legacy-nsg", version="v1.28.5")
        .add_service("web", ports=[80, 443], ip_families=("IPv4", "IPv6"))
        .add_service("api", ports=[8080], source_ranges=["10.0.0.0/8"])
        .build()
    )
    floating_off = (
        AksBuilder(name="no-floating")
        .add_service(
            "web",
            ports=[{"port": 80, "nodePort": 30396}],
            annotations={"service.beta.kubernetes.io/azure-disable-load-balancer-floating-ip": "true"},
        )
        .build()
    )
    try:
        p, q = prefix_of(legacy), prefix_of(legacy, "default/api")
        rules = {r["name"]: r["properties"] for r in legacy.security_group(NODE_NSG)["properties"]["securityRules"]}
        assert list(rules) == [
            f"{p}-TCP-80-Internet",
            f"{p}-TCP-443-Internet",
            f"{p}-TCP-80-Internet-IPv6",
            f"{p}-TCP-443-Internet-IPv6",
            f"{q}-TCP-8080-10.0.0.0_8",
        ]
        assert [r["priority"] for r in rules.values()] == [500, 501, 502, 503, 504]
        first = rules[f"{p}-TCP-80-Internet"]
        web_ips = [i["ip"] for i in legacy.service("default/web")["status"]["loadBalancer"]["ingress"]]
        assert (first["destinationPortRange"], first["destinationAddressPrefix"]) == ("80", web_ips[0])
        assert rules[f"{p}-TCP-80-Internet-IPv6"]["destinationAddressPrefix"] == web_ips[1]

        (rule,) = floating_off.security_group(NODE_NSG)["properties"]["securityRules"]
        assert rule["name"] == md5_name("IPv4", "Tcp", ["Internet"], ["30396"])
        assert "destinationAddressPrefix" not in rule["properties"]
        assert rule["properties"]["destinationAddressPrefixes"] == sorted(floating_off.address_of(i) for i in range(3))
        assert rule["properties"]["destinationPortRanges"] == ["30396"]
    finally:
        legacy.release()
        floating_off.release()


def test_nsg_rule_priorities_are_unique_per_nsg_and_direction():
    with pytest.raises(ValueError, match="priority 300"):
        AksBuilder(name="dup").add_service("web").nsg_rule("nic", "A", 300, "Allow").nsg_rule(
            "nic", "B", 300, "Deny"
        ).build()
    with pytest.raises(ValueError, match="100-4096"):
        AksBuilder().nsg_rule("nic", "A", 65000, "Allow")
    # The provider picks its priorities around the owner's rules.
    cluster = AksBuilder(name="around").add_service("web").nsg_rule("nic", "Mine", 500, "Allow").build()
    try:
        prios = {
            r["name"]: r["properties"]["priority"] for r in cluster.security_groups[0]["properties"]["securityRules"]
        }
        assert prios["Mine"] == 500 and sorted(prios.values()) == [500, 501]
    finally:
        cluster.release()


# ---------------------------------------------------------------------------------------------
# Private Link Service with proxy protocol


def test_private_link_service_with_proxy_protocol():
    with Lab("pls-proxy-protocol") as lab:
        c = lab.cluster
        rg = c.node_resource_group
        client = arm_client(lab)
        p = prefix_of(c)
        (listed,) = client.private_link_services.list(rg, enforce_https=False)
        pls = client.private_link_services.get(rg, f"pls-{p}", enforce_https=False)
        assert listed.id == pls.id and pls.location == "westeurope"
        lb = client.load_balancers.get(rg, "kubernetes-internal", enforce_https=False)
        assert [f.id for f in pls.load_balancer_frontend_ip_configurations] == [lb.frontend_ip_configurations[0].id]
        assert pls.enable_proxy_protocol is True
        assert pls.visibility.subscriptions == [] and pls.alias.endswith(".westeurope.azure.privatelinkservice")
        (ipc,) = pls.ip_configurations
        assert ipc.subnet.id == c.virtual_networks[0]["properties"]["subnets"][0]["id"] and ipc.primary
        assert pls.tags == {"k8s-azure-owner-service": "default/web", "k8s-azure-cluster-name": "kubernetes"}
        # CCM v1.27.3 keeps the Local probe: Http /healthz on the health check port.
        probe = lb.probes[0]
        assert (probe.name, probe.protocol, probe.port, probe.request_path) == (
            f"{p}-TCP-32001",
            "Http",
            32001,
            "/healthz",
        )
        assert health(lab, f"{p}-TCP-80", "kubernetes-internal") == {
            lab.address(i): ("Down", "Down_Probe_HttpNoResponse") for i in range(3)
        }
        assert [http_get(lab.address(i), 32001, "/healthz")[0] for i in range(3)] == [200, 200, 503]


def test_private_link_on_newer_ccm_gets_per_port_tcp_probes():
    cluster = (
        AksBuilder(name="pls-new")
        .add_service("web", ports=[{"port": 80, "nodePort": 31001}], policy="Local", internal=True)
        .private_link()
        .build()
    )
    try:
        (probe,) = cluster.load_balancer("kubernetes-internal")["properties"]["probes"]
        assert (probe["properties"]["protocol"], probe["properties"]["port"]) == ("Tcp", 31001)
        assert set(cluster.rule_health_overrides.values()) == {("Down", "Down_Probe_TcpProbeTimeout")}
        assert cluster.private_link_services[0]["properties"]["enableProxyProtocol"] is True
    finally:
        cluster.release()
    plain = AksBuilder(name="pls-plain").add_service("web", internal=True).private_link(proxy_protocol=False).build()
    try:
        assert plain.private_link_services[0]["properties"]["enableProxyProtocol"] is False
        assert plain.rule_health_overrides == {}
    finally:
        plain.release()
    with pytest.raises(ValueError, match="internal load balancer"):
        AksBuilder().add_service("web").private_link()


# ---------------------------------------------------------------------------------------------
# Dual-stack on IPv4-mapped addresses, Cilium


def test_dual_stack_lab_serves_both_families_and_ipv6_down():
    with Lab("dualstack-ipv6-down") as lab:
        c = lab.cluster
        rg = c.node_resource_group
        client = arm_client(lab)
        p = prefix_of(c)
        for i in range(3):
            v4 = lab.address(i)
            assert c.address6_of(i) == f"::ffff:{v4}"
            assert [a["address"] for a in c.nodes[i]["status"]["addresses"] if a["type"] == "InternalIP"] == [
                v4,
                f"::ffff:{v4}",
            ]
            assert c.node(f"::ffff:{v4}") is c.nodes[i]
        svc = c.service("default/web")
        assert svc["spec"]["ipFamilies"] == ["IPv4", "IPv6"] and svc["spec"]["ipFamilyPolicy"] == "RequireDualStack"
        assert [":" in ip for ip in svc["spec"]["clusterIPs"]] == [False, True]
        ingress = [i["ip"] for i in svc["status"]["loadBalancer"]["ingress"]]
        assert [":" in ip for ip in ingress] == [False, True]
        assert sorted(s["addressType"] for s in c.endpointslices) == ["IPv4", "IPv6"]

        nics = list(
            client.network_interfaces.list_virtual_machine_scale_set_network_interfaces(rg, VMSS, enforce_https=False)
        )
        v6_ids = []
        for i, nic in enumerate(nics):
            v4cfg, v6cfg = nic.ip_configurations
            assert (v4cfg.name, v4cfg.private_ip_address_version, v4cfg.primary) == ("ipconfig1", "IPv4", True)
            assert (v6cfg.name, v6cfg.private_ip_address_version, v6cfg.primary) == ("ipconfigv6", "IPv6", False)
            assert v6cfg.private_ip_address == c.address6_of(i) and v6cfg.subnet.id == v4cfg.subnet.id
            v6_ids.append(v6cfg.id.lower())

        lb = client.load_balancers.get(rg, "kubernetes", enforce_https=False)
        assert {f.name for f in lb.frontend_ip_configurations} >= {p, f"{p}-IPv6"}
        pools = {pl.name: pl for pl in lb.backend_address_pools}
        assert [m.id.lower() for m in pools["kubernetes-IPv6"].backend_ip_configurations] == v6_ids
        rules = {r.name: r for r in lb.load_balancing_rules}
        assert set(rules) == {f"{p}-TCP-80", f"{p}-TCP-80-IPv6"}
        v6rule = rules[f"{p}-TCP-80-IPv6"]
        assert v6rule.backend_address_pool.id == pools["kubernetes-IPv6"].id
        assert v6rule.frontend_ip_configuration.id.endswith(f"/frontendIPConfigurations/{p}-IPv6")
        probes = {pr.name: (pr.protocol, pr.port) for pr in lb.probes}
        assert probes == {f"{p}-TCP-80": ("Tcp", 30396), f"{p}-TCP-80-IPv6": ("Tcp", 30396)}
        pip = client.public_ip_addresses.get(rg, f"kubernetes-{p}-IPv6", enforce_https=False)
        assert (pip.public_ip_address_version, pip.ip_address) == ("IPv6", ingress[1])

        assert health(lab, f"{p}-TCP-80") == {lab.address(i): ("Up", "Up_Probe_Success") for i in range(3)}
        assert health(lab, f"{p}-TCP-80-IPv6") == {
            c.address6_of(i): ("Down", "Down_Probe_TcpProbeTimeout") for i in range(3)
        }
        # Yet every node answers on its IPv6 address: an AF_INET6 connect to ::ffff:127.o.x.y.
        for i in range(3):
            assert connect(c.address6_of(i), 30396) == "open"
            status, _ = http_get(c.address6_of(i), 30396)
            assert status == 200
        # Cilium's :10256: /healthz without nodeEligible, no /livez.
        status, body = http_get(c.address6_of(0), 10256, "/healthz")
        assert status == 200 and "nodeEligible" not in json.loads(body)
        assert http_get(lab.address(0), 10256, "/livez")[0] == 404
        assert c.nodes[0]["metadata"]["labels"]["kubernetes.azure.com/ebpf-dataplane"] == "cilium"


def test_cilium_local_health_bodies_have_no_service_proxy_healthy():
    cluster = (
        AksBuilder(name="cilium-local", data_plane="cilium")
        .add_service(
            "web",
            ports=[{"port": 80, "nodePort": 31080}],
            policy="Local",
            health_check_node_port=32649,
            endpoints_on=[0],
            ip_families=("IPv6", "IPv4"),
        )
        .build()
    )
    assert cluster.service("web")["spec"]["ipFamilies"] == ["IPv6", "IPv4"]
    assert ":" in cluster.service("web")["spec"]["clusterIPs"][0]
    with Lab(cluster) as lab:
        status, body = http_get(cluster.address6_of(0), 32649, "/healthz")
        assert status == 200
        assert body == b'{"service":{"namespace":"default","name":"web"},"localEndpoints":1}\n'
        status, body = http_get(lab.address(1), 32649, "/healthz")
        assert status == 503 and "serviceProxyHealthy" not in json.loads(body)
        assert connect(lab.address(1), 31080) == "refused"  # Cilium: no local backend → reject
        p = prefix_of(cluster)
        assert health(lab, f"{p}-TCP-80-IPv6") == {
            cluster.address6_of(0): ("Up", "Up_Probe_Success"),
            cluster.address6_of(1): ("Down", "Down_Probe_HttpStatusCodeError"),
            cluster.address6_of(2): ("Down", "Down_Probe_HttpStatusCodeError"),
        }


# ---------------------------------------------------------------------------------------------
# The laptop: Azure reaches the nodes, we do not


def _vantage(unreachable: bool) -> LabCluster:
    b = AksBuilder(nodes=4, name="vantage")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31080}],
        policy="Local",
        health_check_node_port=32649,
        endpoints_on=[0, 1],
    )
    b.add_service("api", ports=[{"port": 8080, "nodePort": 30808}], endpoints_on=[2])
    b.node_behaviour(3, 30808, Closed())  # one node refuses: Azure says Down there
    b.set_probe("api", 8080, port=31999)  # nothing listens on 31999 anywhere: Down on every node
    b.azure_says(0, None, "Down", "Down_Admin")
    if unreachable:
        b.unreachable_from_here()
    return b.build()


def test_unreachable_from_here_keeps_azures_view_and_times_out_our_connects():
    plain, far = _vantage(False), _vantage(True)
    p = prefix_of(plain)
    api = prefix_of(plain, "default/api")
    rules = [f"{p}-TCP-80", f"{api}-TCP-8080"]
    assert rules == [f"{prefix_of(far)}-TCP-80", f"{prefix_of(far, 'default/api')}-TCP-8080"]

    def by_node(cluster: LabCluster, verdicts: dict[str, tuple[str, str]]) -> dict[int, tuple[str, str]]:
        return {cluster.nodes.index(cluster.node(ip)): v for ip, v in verdicts.items()}

    with Lab(plain) as lab:
        before = {r: by_node(plain, health(lab, r)) for r in rules}
        assert connect(lab.address(2), 30808) == "open"
    assert before[rules[0]] == {
        0: ("Down", "Down_Admin"),
        1: ("Up", "Up_Probe_Success"),
        2: ("Down", "Down_Probe_HttpStatusCodeError"),
        3: ("Down", "Down_Probe_HttpStatusCodeError"),
    }
    assert set(before[rules[1]].values()) == {("Down", "Down_Admin"), ("Down", "Down_Probe_TcpProbeTimeout")}

    # The overrides pin exactly the un-blackholed verdicts…
    pinned = {
        (rule, far.nodes.index(far.node(ip))): v for (rule, ip), v in far.rule_health_overrides.items() if rule != "*"
    }
    assert pinned == {(r.lower(), i): v for r in rules for i, v in before[r].items()}
    # …and every node port is a black hole now, including the probe port nobody listened on.
    assert {type(s.behaviour) for s in far.listeners} == {Blackhole}
    assert {s.port for s in far.listeners} == {31080, 32649, 30808, 31999, 10256}
    assert len(far.listeners) == 4 * 5
    with Lab(far) as lab:
        after = {r: by_node(far, health(lab, r)) for r in rules}
        assert after == before
        for i in range(4):
            for port in (31080, 32649, 10256, 31999):
                assert connect(lab.address(i), port, timeout=0.3) == "timeout"


def test_laptop_scenarios():
    with Lab("laptop-azure-up") as lab:
        c = lab.cluster
        assert health(lab, f"{prefix_of(c)}-TCP-80") == {
            lab.address(0): ("Up", "Up_Probe_Success"),
            lab.address(1): ("Up", "Up_Probe_Success"),
            lab.address(2): ("Down", "Down_Probe_HttpStatusCodeError"),
        }
        assert connect(lab.address(0), 32649, timeout=0.3) == "timeout"
    from azure.core.exceptions import HttpResponseError

    with Lab("laptop-no-azure") as lab:
        with pytest.raises(HttpResponseError) as info:
            health(lab, f"{prefix_of(lab.cluster)}-TCP-80")
        assert info.value.status_code == 403
        assert connect(lab.address(1), 31080, timeout=0.3) == "timeout"


# ---------------------------------------------------------------------------------------------
# Scenarios


NEW_SCENARIOS = (
    "laptop-azure-up",
    "laptop-no-azure",
    "nsg-subnet-blocks-probe",
    "nsg-nic-blocks-probe",
    "nsg-subnet-no-client-rule",
    "dualstack-ipv6-down",
    "pls-proxy-protocol",
    "nsg-byo-vnet-forbidden",
)


@pytest.mark.parametrize("name", NEW_SCENARIOS)
def test_new_scenarios_build_with_a_network(name: str):
    assert name in scenarios.names()
    cluster = scenarios.build(name)
    try:
        assert cluster.description and "\n" not in cluster.description
        assert cluster.main_service == "default/web"
        assert len(cluster.nodes) == 3
        assert [g["name"] for g in cluster.security_groups][0] == NODE_NSG
        assert len(cluster.virtual_networks) == 1
        subnet_id = cluster.virtual_networks[0]["properties"]["subnets"][0]["id"]
        for nic in cluster.nics:
            assert nic["properties"]["networkSecurityGroup"]["id"] == cluster.security_groups[0]["id"]
            assert {ipc["properties"]["subnet"]["id"] for ipc in nic["properties"]["ipConfigurations"]} == {subnet_id}
    finally:
        cluster.release()
