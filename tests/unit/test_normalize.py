"""One canonical model from every shape ARM and Kubernetes documents come in (probe-semantics.md §6)."""

from __future__ import annotations

import pytest

from akslbctl.model.azure import NetworkInterface
from akslbctl.model.network import PrivateLinkService, SecurityGroup, SecurityRule, Subnet, VirtualNetwork
from akslbctl.sources import normalize
from akslbctl.sources.normalize import ShapeError

S = "/subscriptions/0000-1111/resourceGroups/MC_rg_aks_westeurope/providers/Microsoft.Network"
LB = f"{S}/loadBalancers/kubernetes"
VMSS = (
    "/subscriptions/0000-1111/resourceGroups/mc_rg_aks_westeurope/providers/Microsoft.Compute/"
    "virtualMachineScaleSets/aks-nodepool1-12345678-vmss"
)
P = "a7c3e1f09b2d44e6a1c5f0e2d3b4a596"


def rest_lb() -> dict:
    return {
        "name": "kubernetes",
        "id": LB,
        "sku": {"name": "Standard"},
        "properties": {
            "frontendIPConfigurations": [
                {
                    "name": P,
                    "id": f"{LB}/frontendIPConfigurations/{P}",
                    "properties": {"publicIPAddress": {"id": f"{S}/publicIPAddresses/kubernetes-{P}"}},
                }
            ],
            "backendAddressPools": [
                {
                    "name": "kubernetes",
                    "id": f"{LB}/backendAddressPools/kubernetes",
                    "properties": {
                        "backendIPConfigurations": [
                            {"id": f"{VMSS}/virtualMachines/0/networkInterfaces/nic/ipConfigurations/ipconfig1"},
                            {"id": f"{VMSS}/virtualMachines/1/networkInterfaces/nic/ipConfigurations/ipconfig1"},
                        ]
                    },
                }
            ],
            "loadBalancingRules": [
                {
                    "name": f"{P}-TCP-80",
                    "id": f"{LB}/loadBalancingRules/{P}-TCP-80",
                    "properties": {
                        "frontendIPConfiguration": {"id": f"{LB}/frontendIPConfigurations/{P}"},
                        "backendAddressPool": {"id": f"{LB}/backendAddressPools/kubernetes"},
                        "backendAddressPools": [{"id": f"{LB}/backendAddressPools/KUBERNETES"}],
                        "probe": {"id": f"{LB}/probes/{P}-TCP-80"},
                        "protocol": "Tcp",
                        "frontendPort": 80,
                        "backendPort": 80,
                        "enableFloatingIP": True,
                        "idleTimeoutInMinutes": 4,
                        "enableTcpReset": True,
                        "disableOutboundSnat": True,
                        "loadDistribution": "Default",
                    },
                }
            ],
            "probes": [
                {
                    "name": f"{P}-TCP-80",
                    "id": f"{LB}/probes/{P}-TCP-80",
                    "properties": {
                        "protocol": "Http",
                        "port": 31380,
                        "requestPath": "/",
                        "intervalInSeconds": 5,
                        "probeThreshold": 2,
                    },
                }
            ],
        },
    }


def az_flattened(doc: dict) -> dict:
    """What `az network lb show -o json` prints: properties flattened, resourceGroup added."""

    def flat(obj):
        if isinstance(obj, list):
            return [flat(o) for o in obj]
        if not isinstance(obj, dict):
            return obj
        out = {}
        for k, v in obj.items():
            if k == "properties" and isinstance(v, dict):
                out.update({kk: flat(vv) for kk, vv in v.items()})
            else:
                out[k] = flat(v)
        if isinstance(out.get("id"), str) and "/resourceGroups/" in out["id"]:
            out["resourceGroup"] = out["id"].split("/resourceGroups/")[1].split("/")[0]
        return out

    return flat(doc)


SNAKE_NAMES = {
    # the load balancer
    "frontendIPConfigurations": "frontend_ip_configurations",
    "publicIPAddress": "public_ip_address",
    "backendAddressPools": "backend_address_pools",
    "backendIPConfigurations": "backend_ip_configurations",
    "loadBalancingRules": "load_balancing_rules",
    "frontendIPConfiguration": "frontend_ip_configuration",
    "backendAddressPool": "backend_address_pool",
    "frontendPort": "frontend_port",
    "backendPort": "backend_port",
    "enableFloatingIP": "enable_floating_ip",
    "idleTimeoutInMinutes": "idle_timeout_in_minutes",
    "enableTcpReset": "enable_tcp_reset",
    "disableOutboundSnat": "disable_outbound_snat",
    "loadDistribution": "load_distribution",
    "requestPath": "request_path",
    "intervalInSeconds": "interval_in_seconds",
    "probeThreshold": "probe_threshold",
    # the network path: the attribute names of azure-mgmt-network ≤ 30's models
    "provisioningState": "provisioning_state",
    "securityRules": "security_rules",
    "defaultSecurityRules": "default_security_rules",
    "sourceAddressPrefix": "source_address_prefix",
    "sourceAddressPrefixes": "source_address_prefixes",
    "destinationAddressPrefix": "destination_address_prefix",
    "destinationAddressPrefixes": "destination_address_prefixes",
    "sourcePortRange": "source_port_range",
    "sourcePortRanges": "source_port_ranges",
    "destinationPortRange": "destination_port_range",
    "destinationPortRanges": "destination_port_ranges",
    "sourceApplicationSecurityGroups": "source_application_security_groups",
    "destinationApplicationSecurityGroups": "destination_application_security_groups",
    "addressPrefix": "address_prefix",
    "addressPrefixes": "address_prefixes",
    "addressSpace": "address_space",
    "networkSecurityGroup": "network_security_group",
    "virtualNetworkPeerings": "virtual_network_peerings",
    "peeringState": "peering_state",
    "remoteAddressSpace": "remote_address_space",
    "remoteVirtualNetwork": "remote_virtual_network",
    "loadBalancerFrontendIpConfigurations": "load_balancer_frontend_ip_configurations",
    "enableProxyProtocol": "enable_proxy_protocol",
    "ipConfigurations": "ip_configurations",
    "privateIPAddress": "private_ip_address",
    "virtualMachine": "virtual_machine",
}


def snake(doc):
    """azure-mgmt-network ≤ 30 as_dict(): flattened and snake_case."""
    flat = az_flattened(doc)

    def conv(obj):
        if isinstance(obj, list):
            return [conv(o) for o in obj]
        if isinstance(obj, dict):
            return {SNAKE_NAMES.get(k, k): conv(v) for k, v in obj.items() if k != "resourceGroup"}
        return obj

    return conv(flat)


@pytest.mark.parametrize("shape", [lambda d: d, az_flattened, snake], ids=["rest", "az", "sdk-snake"])
def test_every_arm_shape_gives_the_same_model(shape):
    lb = normalize.load_balancer(shape(rest_lb()))
    assert lb.name == "kubernetes"
    assert lb.resource_group == "MC_rg_aks_westeurope" and lb.subscription == "0000-1111"
    assert lb.sku == "Standard"
    (rule,) = lb.rules
    assert (rule.protocol, rule.frontend_port, rule.backend_port) == ("Tcp", 80, 80)
    assert rule.enable_floating_ip is True and rule.idle_timeout == 4 and rule.disable_outbound_snat is True
    # backendAddressPool and backendAddressPools name the same pool in another case: kept once
    assert len(rule.backend_pool_ids) == 1
    probe = lb.probe_by_id(rule.probe_id)
    assert (probe.protocol, probe.port, probe.request_path, probe.interval, probe.threshold) == (
        "Http",
        31380,
        "/",
        5,
        2,
    )
    assert [m.ipconfig_id.split("/virtualMachines/")[1][0] for m in lb.pools[0].members] == ["0", "1"]
    assert lb.frontends[0].public_ip_id.endswith(f"kubernetes-{P}")


def test_threshold_falls_back_to_one_not_number_of_probes():
    doc = rest_lb()
    doc["properties"]["probes"][0]["properties"] = {
        "protocol": "Tcp",
        "port": 30396,
        "intervalInSeconds": 5,
        "numberOfProbes": 2,
    }
    probe = normalize.load_balancer(doc).probes[0]
    assert probe.number_of_probes == 2 and probe.probe_threshold is None
    assert probe.threshold == 1  # Azure does not honour numberOfProbes


def test_ip_pool_members_and_echoed_nic_members():
    doc = rest_lb()
    pool = doc["properties"]["backendAddressPools"][0]["properties"]
    pool["loadBalancerBackendAddresses"] = [
        # ARM echoes NIC members here without an address: not a second member
        {
            "name": "x",
            "properties": {"networkInterfaceIPConfiguration": {"id": pool["backendIPConfigurations"][0]["id"]}},
        },
        {"name": "aks-np-0", "properties": {"ipAddress": "10.224.0.9", "adminState": "Down"}},
    ]
    members = normalize.load_balancer(doc).pools[0].members
    assert len(members) == 3
    assert members[2].ip_address == "10.224.0.9" and members[2].name == "aks-np-0" and members[2].admin_state == "Down"


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["properties"]["probes"][0]["properties"].update(port="thirty"), "probes[0].port"),
        (lambda d: d["properties"]["probes"][0]["properties"].update(protocol="Icmp"), "probes[0].protocol"),
        (lambda d: d["properties"].update(loadBalancingRules={"a": 1}), "loadBalancingRules"),
        (
            lambda d: d["properties"]["loadBalancingRules"][0]["properties"].update(enableFloatingIP=[1]),
            "enableFloatingIP",
        ),
    ],
)
def test_wrong_types_name_the_field(mutate, path):
    doc = rest_lb()
    mutate(doc)
    with pytest.raises(ShapeError) as err:
        normalize.load_balancer(doc, "lb.json")
    assert path in str(err.value) and str(err.value).startswith("lb.json")


def test_service_node_and_endpoints():
    svc = normalize.service(
        {
            "metadata": {
                "name": "web",
                "namespace": "shop",
                "uid": "7c3e1f09-b2d4-4e6a-1c5f-0e2d3b4a5961",
                "annotations": {"a": "b"},
            },
            "spec": {
                "type": "LoadBalancer",
                "externalTrafficPolicy": "Local",
                "healthCheckNodePort": 32649,
                "ports": [{"name": "http", "port": 80, "nodePort": 31380, "targetPort": "http", "appProtocol": "http"}],
            },
            "status": {"loadBalancer": {"ingress": [{"ip": "20.1.2.3"}]}},
        }
    )
    assert svc.ref == "shop/web" and svc.is_local and svc.health_check_node_port == 32649
    assert svc.ports[0].protocol == "TCP" and svc.ports[0].app_protocol == "http" and svc.ingress_ips == ("20.1.2.3",)
    node = normalize.node(
        {
            "metadata": {"name": "n0", "deletionTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {
                "providerID": "azure:///x",
                "taints": [{"key": "ToBeDeletedByClusterAutoscaler", "effect": "NoSchedule"}],
            },
            "status": {
                "addresses": [
                    {"type": "Hostname", "address": "n0"},
                    {"type": "InternalIP", "address": "10.0.0.4"},
                    {"type": "InternalIP", "address": "fd00::4"},
                ],
                "conditions": [{"type": "Ready", "status": "False"}],
            },
        }
    )
    assert node.address("IPv4") == "10.0.0.4" and node.address("IPv6") == "fd00::4"
    assert node.deleting and node.autoscaler_deleting and node.ready is False
    eps = normalize.endpoints(
        {
            "endpoints": [
                {"addresses": ["10.1.0.5"], "nodeName": "n0", "conditions": {}},
                {
                    "addresses": ["10.1.0.6"],
                    "nodeName": "n1",
                    "conditions": {"ready": False, "serving": True, "terminating": True},
                },
            ]
        }
    )
    assert eps[0].ready and eps[0].serving and not eps[0].terminating  # nil means ready
    assert not eps[1].ready and eps[1].serving and eps[1].terminating


def test_service_shape_errors_name_the_field():
    with pytest.raises(ShapeError, match=r"spec.ports\[0\].port"):
        normalize.service({"metadata": {"name": "x"}, "spec": {"ports": [{"port": True}]}})
    with pytest.raises(ShapeError, match="metadata.name"):
        normalize.service({"metadata": {}})
    with pytest.raises(ShapeError, match="expected an object"):
        normalize.service([1, 2])


# ---------------------------------------------------------------------------------------------
# The network path: NSGs, subnets, VNets, Private Link Services and the NIC's NSG and subnets

NET = "/subscriptions/0000-1111/resourceGroups/net-rg/providers/Microsoft.Network"  # a BYO VNet's group
NSG = f"{S}/networkSecurityGroups/aks-agentpool-12345678-nsg"
VNET = f"{NET}/virtualNetworks/hub-vnet"
SUBNET = f"{VNET}/subnets/aks-subnet"
ASG_WEB = f"{NET}/applicationSecurityGroups/web"
ASG_DB = f"{NET}/applicationSecurityGroups/db"
NIC = f"{S}/networkInterfaces/aks-np-0-nic"
PLS = f"{S}/privateLinkServices/pls-web"


def _rule(name: str, **props) -> dict:
    return {
        "name": name,
        "id": f"{NSG}/securityRules/{name}",
        "properties": {"provisioningState": "Succeeded", **props},
    }


def rest_nsg() -> dict:
    return {
        "name": "aks-agentpool-12345678-nsg",
        "id": NSG,
        "etag": 'W/"1"',
        "type": "Microsoft.Network/networkSecurityGroups",
        "location": "westeurope",
        "properties": {
            "provisioningState": "Succeeded",
            "securityRules": [
                # what the cloud provider writes: an empty singular beside the plural
                _rule(
                    f"k8s-azure-lb_allow_IPv4_{P}",
                    protocol="Tcp",
                    sourcePortRange="*",
                    destinationPortRange="80",
                    sourceAddressPrefix="Internet",
                    destinationAddressPrefix="",
                    destinationAddressPrefixes=["20.1.2.3", "20.1.2.4"],
                    sourcePortRanges=[],
                    destinationPortRanges=[],
                    sourceAddressPrefixes=[],
                    access="Allow",
                    priority=500,
                    direction="Inbound",
                ),
                # lower-case spellings, singular and plural both set, ranges
                _rule(
                    "deny-nodeports",
                    protocol="udp",
                    sourceAddressPrefix="10.0.0.0/8",
                    sourceAddressPrefixes=["192.168.0.0/16", "10.0.0.0/8"],
                    destinationAddressPrefix="*",
                    destinationPortRange="",
                    destinationPortRanges=["30000-32767", "53"],
                    access="deny",
                    priority=4000,
                    direction="inbound",
                ),
                # application security groups instead of prefixes: not "any"
                _rule(
                    "web-to-db",
                    protocol="*",
                    sourceApplicationSecurityGroups=[{"id": ASG_WEB}],
                    destinationApplicationSecurityGroups=[{"id": ASG_DB}],
                    destinationPortRange="5432",
                    access="Allow",
                    priority=200,
                    direction="Outbound",
                ),
                _rule("gre-in", protocol="Gre", access="Allow", priority=300, direction="Inbound"),
            ],
            "defaultSecurityRules": [
                {
                    "name": name,
                    "id": f"{NSG}/defaultSecurityRules/{name}",
                    "properties": {
                        "protocol": "*",
                        "sourcePortRange": "*",
                        "destinationPortRange": "*",
                        "sourceAddressPrefix": source,
                        "destinationAddressPrefix": dest,
                        "access": access,
                        "priority": priority,
                        "direction": "Inbound",
                    },
                }
                for name, source, dest, access, priority in [
                    ("AllowVnetInBound", "VirtualNetwork", "VirtualNetwork", "Allow", 65000),
                    ("AllowAzureLoadBalancerInBound", "AzureLoadBalancer", "*", "Allow", 65001),
                    ("DenyAllInBound", "*", "*", "Deny", 65500),
                ]
            ],
        },
    }


def _default(name: str, source: str, dest: str, access: str, priority: int):
    return SecurityRule(
        name=name,
        priority=priority,
        access=access,
        source_prefixes=(source,),
        destination_prefixes=(dest,),
        default=True,
    )


EXPECTED_NSG = SecurityGroup(
    id=NSG,
    name="aks-agentpool-12345678-nsg",
    rules=(
        SecurityRule(
            name=f"k8s-azure-lb_allow_IPv4_{P}",
            priority=500,
            protocol="Tcp",
            source_prefixes=("Internet",),
            destination_prefixes=("20.1.2.3", "20.1.2.4"),
            destination_ports=("80",),
        ),
        SecurityRule(
            name="deny-nodeports",
            priority=4000,
            access="Deny",
            protocol="Udp",
            source_prefixes=("10.0.0.0/8", "192.168.0.0/16"),
            destination_ports=("30000-32767", "53"),
        ),
        SecurityRule(
            name="web-to-db",
            priority=200,
            direction="Outbound",
            source_prefixes=(),
            destination_prefixes=(),
            destination_ports=("5432",),
            source_asgs=(ASG_WEB,),
            destination_asgs=(ASG_DB,),
        ),
        SecurityRule(name="gre-in", priority=300, protocol="Gre"),
    ),
    default_rules=(
        _default("AllowVnetInBound", "VirtualNetwork", "VirtualNetwork", "Allow", 65000),
        _default("AllowAzureLoadBalancerInBound", "AzureLoadBalancer", "*", "Allow", 65001),
        _default("DenyAllInBound", "*", "*", "Deny", 65500),
    ),
)


def _subnet_doc(name: str, nsg: str | None = NSG, **props) -> dict:
    if nsg:
        props["networkSecurityGroup"] = {"id": nsg}
    return {"name": name, "id": f"{VNET}/subnets/{name}", "properties": {"provisioningState": "Succeeded", **props}}


def rest_subnet() -> dict:
    return _subnet_doc("aks-subnet", addressPrefix="10.224.0.0/16", ipConfigurations=[{"id": f"{NIC}/x"}])


def rest_vnet() -> dict:
    def peering(name, state, prefixes):
        props = {"remoteAddressSpace": {"addressPrefixes": prefixes}, "remoteVirtualNetwork": {"id": f"{NET}/x/{name}"}}
        if state:
            props["peeringState"] = state
        return {"name": name, "id": f"{VNET}/virtualNetworkPeerings/{name}", "properties": props}

    return {
        "name": "hub-vnet",
        "id": VNET,
        "location": "westeurope",
        "properties": {
            "addressSpace": {"addressPrefixes": ["10.224.0.0/12", "fd00::/48"]},
            "subnets": [
                rest_subnet(),
                # dual stack: only the plural; no NSG
                _subnet_doc("aks-subnet-v6", nsg=None, addressPrefixes=["10.225.0.0/16", "fd00::/64"]),
            ],
            "virtualNetworkPeerings": [
                peering("to-hub", "Connected", ["10.0.0.0/16"]),
                peering("to-new", "Initiated", ["172.16.0.0/16"]),
                peering("to-gone", "Disconnected", ["172.17.0.0/16"]),
                peering("no-state", None, ["192.168.0.0/16", "10.0.0.0/16"]),
            ],
        },
    }


EXPECTED_SUBNET = Subnet(id=SUBNET, name="aks-subnet", address_prefixes=("10.224.0.0/16",), nsg_id=NSG)
EXPECTED_VNET = VirtualNetwork(
    id=VNET,
    name="hub-vnet",
    address_prefixes=("10.224.0.0/12", "fd00::/48"),
    peered_prefixes=("10.0.0.0/16", "192.168.0.0/16"),
    subnets=(
        EXPECTED_SUBNET,
        Subnet(
            id=f"{VNET}/subnets/aks-subnet-v6",
            name="aks-subnet-v6",
            address_prefixes=(
                "10.225.0.0/16",
                "fd00::/64",
            ),
        ),
    ),
)


def rest_pls() -> dict:
    return {
        "name": "pls-web",
        "id": PLS,
        "properties": {
            "loadBalancerFrontendIpConfigurations": [{"id": f"{LB}/frontendIPConfigurations/{P}"}],
            "ipConfigurations": [{"name": "ipc", "properties": {"privateIPAllocationMethod": "Dynamic"}}],
            "enableProxyProtocol": True,
            "alias": "pls-web.0000.westeurope.azure.privatelinkservice",
        },
    }


EXPECTED_PLS = PrivateLinkService(
    id=PLS, name="pls-web", frontend_ids=(f"{LB}/frontendIPConfigurations/{P}",), proxy_protocol=True
)


def rest_nic() -> dict:
    def ipconfig(name, ip, subnet):
        props = {"privateIPAddress": ip, "primary": name == "ipconfig1"}
        if subnet:
            props["subnet"] = {"id": subnet}
        return {"name": name, "id": f"{NIC}/ipConfigurations/{name}", "properties": props}

    return {
        "name": "aks-np-0-nic",
        "id": NIC,
        "properties": {
            "virtualMachine": {"id": f"{VMSS}/virtualMachines/0"},
            "networkSecurityGroup": {"id": NSG},
            "ipConfigurations": [
                ipconfig("ipconfig1", "10.224.0.4", SUBNET),
                ipconfig("IPConfig-v6", "fd00::4", f"{VNET}/subnets/aks-subnet-v6"),
                ipconfig("orphan", "10.224.0.5", None),
            ],
        },
    }


EXPECTED_NIC = NetworkInterface(
    id=NIC,
    vm_id=f"{VMSS}/virtualMachines/0",
    ipconfigs={
        f"{NIC}/ipConfigurations/ipconfig1".lower(): "10.224.0.4",
        f"{NIC}/ipConfigurations/IPConfig-v6".lower(): "fd00::4",
        f"{NIC}/ipConfigurations/orphan".lower(): "10.224.0.5",
    },
    nsg_id=NSG,
    subnets={
        f"{NIC}/ipConfigurations/ipconfig1".lower(): SUBNET,
        f"{NIC}/ipConfigurations/IPConfig-v6".lower(): f"{VNET}/subnets/aks-subnet-v6",
        f"{NIC}/ipConfigurations/orphan".lower(): None,
    },
)


def sdk_model(model: str):
    """azure-mgmt-network ≥ 31: the document through the installed SDK's model and back (REST-shaped)."""

    def shape(doc):
        from azure.mgmt.network import models

        return getattr(models, model)(doc).as_dict()

    return shape


NETWORK_CASES = [
    ("nsg", normalize.security_group, rest_nsg, EXPECTED_NSG, "NetworkSecurityGroup"),
    ("subnet", normalize.subnet, rest_subnet, EXPECTED_SUBNET, "Subnet"),
    ("vnet", normalize.virtual_network, rest_vnet, EXPECTED_VNET, "VirtualNetwork"),
    ("pls", normalize.private_link_service, rest_pls, EXPECTED_PLS, "PrivateLinkService"),
    ("nic", normalize.network_interface, rest_nic, EXPECTED_NIC, "NetworkInterface"),
]
SHAPES = [("rest", lambda d: d), ("az", az_flattened), ("sdk-snake", snake)]


@pytest.mark.parametrize(("shape_name", "shape"), SHAPES, ids=[s[0] for s in SHAPES])
@pytest.mark.parametrize(("case", "fn", "doc", "expected", "model"), NETWORK_CASES, ids=[c[0] for c in NETWORK_CASES])
def test_network_objects_in_every_shape(case, fn, doc, expected, model, shape_name, shape):
    assert fn(shape(doc())) == expected


@pytest.mark.parametrize(("case", "fn", "doc", "expected", "model"), NETWORK_CASES, ids=[c[0] for c in NETWORK_CASES])
def test_network_objects_through_the_installed_sdk_model(case, fn, doc, expected, model):
    assert fn(sdk_model(model)(doc())) == expected


def test_az_shapes_are_really_flat_and_snake_really_snake():
    # the fixtures exercise what they claim: no properties left, no camelCase field names
    assert "properties" not in az_flattened(rest_nsg()) and "securityRules" in az_flattened(rest_nsg())
    assert az_flattened(rest_nic())["networkSecurityGroup"]["resourceGroup"] == "MC_rg_aks_westeurope"
    rule = snake(rest_nsg())["security_rules"][0]
    assert rule["destination_address_prefixes"] == ["20.1.2.3", "20.1.2.4"] and "sourceAddressPrefix" not in rule
    assert snake(rest_vnet())["virtual_network_peerings"][0]["remote_address_space"]["address_prefixes"]


@pytest.mark.parametrize(
    ("props", "field", "expected"),
    [
        ({}, "source_prefixes", ("*",)),  # missing: any
        ({"sourceAddressPrefix": "", "sourceAddressPrefixes": []}, "source_prefixes", ("*",)),
        ({"sourceAddressPrefix": "", "sourceAddressPrefixes": ["10.0.0.0/8"]}, "source_prefixes", ("10.0.0.0/8",)),
        ({"sourceAddressPrefix": "Internet"}, "source_prefixes", ("Internet",)),
        (
            {"sourceAddressPrefix": "1.2.3.4", "sourceAddressPrefixes": ["5.6.7.8"]},
            "source_prefixes",
            ("1.2.3.4", "5.6.7.8"),
        ),
        ({"sourceApplicationSecurityGroups": [{"id": ASG_WEB}]}, "source_prefixes", ()),
        ({"destinationApplicationSecurityGroups": [{"id": ASG_DB}]}, "destination_prefixes", ()),
        ({"destinationApplicationSecurityGroups": [{"id": ASG_DB}]}, "source_prefixes", ("*",)),
        ({}, "destination_ports", ("*",)),
        ({"destinationPortRange": "", "destinationPortRanges": ["80", "443"]}, "destination_ports", ("80", "443")),
        ({"sourcePortRange": "1024-65535"}, "source_ports", ("1024-65535",)),
        ({"protocol": "ICMP"}, "protocol", "Icmp"),
        ({"protocol": "esp"}, "protocol", "Esp"),
        ({"protocol": "AH"}, "protocol", "Ah"),
        ({"protocol": "*"}, "protocol", "*"),
        ({"access": "DENY"}, "access", "Deny"),
        ({"direction": "OUTBOUND"}, "direction", "Outbound"),
        ({"priority": "310"}, "priority", 310),
        ({"priority": 320.0}, "priority", 320),
    ],
)
def test_security_rule_fields(props, field, expected):
    base = {"protocol": "Tcp", "access": "Allow", "direction": "Inbound", "priority": 100}
    for shape_name, shape in SHAPES:
        doc = {"id": NSG, "properties": {"securityRules": [_rule("r", **{**base, **props})]}}
        (rule,) = normalize.security_group(shape(doc)).rules
        assert getattr(rule, field) == expected, shape_name
        assert rule.default is False


def test_nsg_without_rules_and_defaults():
    nsg = normalize.security_group({"id": NSG, "name": "empty", "properties": {}})
    assert nsg == SecurityGroup(id=NSG, name="empty")
    assert normalize.security_group({"id": NSG}).name == "aks-agentpool-12345678-nsg"  # from the id


def test_private_link_service_without_proxy_protocol():
    for shape_name, shape in SHAPES:
        doc = rest_pls()
        del doc["properties"]["enableProxyProtocol"]
        assert normalize.private_link_service(shape(doc)).proxy_protocol is False, shape_name
    doc = rest_pls()
    doc["properties"]["enableProxyProtocol"] = "false"
    assert normalize.private_link_service(doc).proxy_protocol is False


def test_vnet_and_subnet_without_optional_parts():
    assert normalize.virtual_network({"id": VNET}) == VirtualNetwork(id=VNET, name="hub-vnet")
    assert normalize.subnet({"id": SUBNET, "properties": {"addressPrefix": ""}}) == Subnet(id=SUBNET, name="aks-subnet")
    nic = normalize.network_interface({"id": NIC, "properties": {}})
    assert nic.nsg_id is None and nic.subnets == {} and nic.ipconfigs == {}


def _nsg_rule0(d: dict) -> dict:
    return d["properties"]["securityRules"][0]["properties"]


@pytest.mark.parametrize(
    ("fn", "doc", "mutate", "path"),
    [
        # security_group
        (
            normalize.security_group,
            rest_nsg,
            lambda d: _nsg_rule0(d).update(priority="high"),
            "securityRules[0].priority",
        ),
        (
            normalize.security_group,
            rest_nsg,
            lambda d: _nsg_rule0(d).update(priority=100.5),
            "securityRules[0].priority",
        ),
        (
            normalize.security_group,
            rest_nsg,
            lambda d: _nsg_rule0(d).update(priority=True),
            "securityRules[0].priority",
        ),
        (normalize.security_group, rest_nsg, lambda d: _nsg_rule0(d).pop("priority"), "securityRules[0].priority"),
        (
            normalize.security_group,
            rest_nsg,
            lambda d: _nsg_rule0(d).update(access="Permit"),
            "securityRules[0].access",
        ),
        (normalize.security_group, rest_nsg, lambda d: _nsg_rule0(d).pop("direction"), "securityRules[0].direction"),
        (normalize.security_group, rest_nsg, lambda d: _nsg_rule0(d).update(protocol=6), "securityRules[0].protocol"),
        (
            normalize.security_group,
            rest_nsg,
            lambda d: _nsg_rule0(d).update(destinationAddressPrefixes="20.1.2.3"),
            "securityRules[0].destinationAddressPrefixes",
        ),
        (
            normalize.security_group,
            rest_nsg,
            lambda d: _nsg_rule0(d).update(destinationPortRanges=[80]),
            "securityRules[0].destinationPortRanges[0]",
        ),
        (
            normalize.security_group,
            rest_nsg,
            lambda d: _nsg_rule0(d).update(sourceApplicationSecurityGroups=["web"]),
            "securityRules[0].sourceApplicationSecurityGroups[0]",
        ),
        (normalize.security_group, rest_nsg, lambda d: d["properties"].update(securityRules={"a": 1}), "securityRules"),
        (
            normalize.security_group,
            rest_nsg,
            lambda d: d["properties"]["defaultSecurityRules"].__setitem__(1, "AllowAzureLoadBalancerInBound"),
            "defaultSecurityRules[1]",
        ),
        # subnet
        (normalize.subnet, rest_subnet, lambda d: d["properties"].update(addressPrefix=10), "addressPrefix"),
        (
            normalize.subnet,
            rest_subnet,
            lambda d: d["properties"].update(addressPrefixes="10.0.0.0/8"),
            "addressPrefixes",
        ),
        (
            normalize.subnet,
            rest_subnet,
            lambda d: d["properties"].update(networkSecurityGroup=NSG),
            "networkSecurityGroup",
        ),
        # virtual_network
        (
            normalize.virtual_network,
            rest_vnet,
            lambda d: d["properties"].update(addressSpace=["10.0.0.0/8"]),
            "addressSpace",
        ),
        (
            normalize.virtual_network,
            rest_vnet,
            lambda d: d["properties"]["addressSpace"].update(addressPrefixes=[None]),
            "addressSpace.addressPrefixes[0]",
        ),
        (
            normalize.virtual_network,
            rest_vnet,
            lambda d: d["properties"]["subnets"][1]["properties"].update(addressPrefixes="fd00::/64"),
            "subnets[1].addressPrefixes",
        ),
        (
            normalize.virtual_network,
            rest_vnet,
            lambda d: d["properties"]["virtualNetworkPeerings"][0]["properties"].update(remoteAddressSpace="10/8"),
            "virtualNetworkPeerings[0].remoteAddressSpace",
        ),
        (
            normalize.virtual_network,
            rest_vnet,
            lambda d: d["properties"]["virtualNetworkPeerings"][0]["properties"].update(peeringState=1),
            "virtualNetworkPeerings[0].peeringState",
        ),
        # private_link_service
        (
            normalize.private_link_service,
            rest_pls,
            lambda d: d["properties"].update(enableProxyProtocol="yes"),
            "enableProxyProtocol",
        ),
        (
            normalize.private_link_service,
            rest_pls,
            lambda d: d["properties"].update(loadBalancerFrontendIpConfigurations={"id": LB}),
            "loadBalancerFrontendIpConfigurations",
        ),
        # network_interface
        (
            normalize.network_interface,
            rest_nic,
            lambda d: d["properties"].update(networkSecurityGroup=[NSG]),
            "networkSecurityGroup",
        ),
        (
            normalize.network_interface,
            rest_nic,
            lambda d: d["properties"]["ipConfigurations"][0]["properties"].update(subnet={"id": 7}),
            "ipConfigurations[0].subnet.id",
        ),
    ],
)
@pytest.mark.parametrize(("shape_name", "shape"), SHAPES, ids=[s[0] for s in SHAPES])
def test_malformed_network_documents_name_the_field(fn, doc, mutate, path, shape_name, shape):
    d = doc()
    mutate(d)
    with pytest.raises(ShapeError) as err:
        fn(shape(d), "net.json")
    assert path in str(err.value) and str(err.value).startswith("net.json")


@pytest.mark.parametrize(
    "fn",
    [
        normalize.security_group,
        normalize.subnet,
        normalize.virtual_network,
        normalize.private_link_service,
        normalize.network_interface,
    ],
)
@pytest.mark.parametrize("doc", [None, [], "nsg", 3])
def test_network_documents_that_are_not_objects(fn, doc):
    with pytest.raises(ShapeError, match="expected an object"):
        fn(doc, "doc")


def _aks_node() -> dict:
    return {
        "metadata": {
            "name": "aks-nodepool1-12345678-vmss000000",
            "labels": {"agentpool": "nodepool1", "kubernetes.io/os": "linux", "topology.kubernetes.io/zone": "0"},
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"providerID": f"azure://{VMSS}/virtualMachines/0", "podCIDR": "10.244.0.0/24"},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": "10.224.0.4"},
                {"type": "Hostname", "address": "aks-nodepool1-12345678-vmss000000"},
            ],
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True"},
            ],
        },
    }


def _variant(change) -> dict:
    doc = _aks_node()
    change(doc)
    return doc


NODE_VARIANTS = {
    "as AKS writes it": lambda d: None,
    "no labels": lambda d: d["metadata"].pop("labels"),
    "a label that is a number": lambda d: d["metadata"]["labels"].update({"n": 3}),
    "a null label": lambda d: d["metadata"]["labels"].update({"gone": None}),
    "a null providerID": lambda d: d["spec"].update({"providerID": None}),
    "no providerID": lambda d: d["spec"].pop("providerID"),
    "an InternalIP without address": lambda d: d["status"]["addresses"].append({"type": "InternalIP", "address": None}),
    "a null address entry": lambda d: d["status"]["addresses"].append(None),
    "a null condition": lambda d: d["status"]["conditions"].append(None),
    "no conditions": lambda d: d["status"].pop("conditions"),
    "taints": lambda d: d["spec"].update(
        {"taints": [{"key": "ToBeDeletedByClusterAutoscaler", "effect": "NoSchedule"}]}
    ),
    "cordoned": lambda d: d["spec"].update({"unschedulable": True}),
    "cordoned in words": lambda d: d["spec"].update({"unschedulable": "true"}),
    "cordoned as a number": lambda d: d["spec"].update({"unschedulable": 1}),
    "a taint without value": lambda d: d["spec"].update({"taints": [{"key": "CriticalAddonsOnly", "value": None}]}),
    "a taint that is text": lambda d: d["spec"].update({"taints": ["CriticalAddonsOnly"]}),
    "taints that are an empty object": lambda d: d["spec"].update({"taints": {}}),
    "a taint key that is a number": lambda d: d["spec"].update({"taints": [{"key": 1}]}),
    "being deleted": lambda d: d["metadata"].update({"deletionTimestamp": "2026-12-01T00:00:00Z"}),
    "a null status": lambda d: d.update({"status": None}),
    "a name that is a number": lambda d: d["metadata"].update({"name": 7}),
    "addresses that are an object": lambda d: d["status"].update({"addresses": {"type": "InternalIP"}}),
}


@pytest.mark.parametrize("name", NODE_VARIANTS)
def test_a_plain_node_reads_as_the_field_by_field_reading_does(name, monkeypatch):
    doc = _variant(NODE_VARIANTS[name])

    def read():
        try:
            return normalize.node(doc, "Node")
        except ShapeError as exc:
            return ("ShapeError", str(exc))

    quick = read()
    monkeypatch.setattr(normalize, "_plain_node", lambda doc: None)
    assert quick == read()


def test_only_plain_nodes_take_the_quick_reading():
    for name in ("as AKS writes it", "taints", "cordoned", "a taint without value"):
        assert normalize._plain_node(_variant(NODE_VARIANTS[name])) is not None, name
    for name in ("a label that is a number", "cordoned in words", "a null status", "taints that are an empty object"):
        assert normalize._plain_node(_variant(NODE_VARIANTS[name])) is None, name


def _nic(change=None) -> dict:
    cfg = f"{S}/networkInterfaces/nic0/ipConfigurations/ipconfig1"
    doc = {
        "name": "nic0",
        "id": f"{S}/networkInterfaces/nic0",
        "properties": {
            "virtualMachine": {"id": "/subscriptions/0000-1111/resourceGroups/mc/providers/Microsoft.Compute/vm0"},
            "networkSecurityGroup": {"id": f"{S}/networkSecurityGroups/aks-agentpool-nsg"},
            "ipConfigurations": [
                {
                    "name": "ipconfig1",
                    "id": cfg,
                    "properties": {
                        "privateIPAddress": "10.224.0.4",
                        "subnet": {"id": f"{S}/virtualNetworks/vnet/subnets/aks-subnet"},
                        "loadBalancerBackendAddressPools": [{"id": f"{LB}/backendAddressPools/kubernetes"}],
                    },
                }
            ],
        },
    }
    if change is not None:
        change(doc)
    return doc


def _config(doc: dict) -> dict:
    return doc["properties"]["ipConfigurations"][0]["properties"]


def test_arm_references_read_the_same_quickly_and_name_what_is_wrong():
    nic = normalize.network_interface(_nic(), "NIC")
    key = _nic()["properties"]["ipConfigurations"][0]["id"].lower()
    assert nic.ipconfigs == {key: "10.224.0.4"} and nic.pools == {key: (f"{LB}/backendAddressPools/kubernetes",)}
    assert nic.nsg_id.endswith("/aks-agentpool-nsg") and nic.subnets[key].endswith("/subnets/aks-subnet")
    unset = normalize.network_interface(_nic(lambda d: d["properties"].update({"virtualMachine": {"id": None}})))
    assert unset.vm_id is None
    extra = [None, {"id": ""}, {"id": f"{LB}/backendAddressPools/other"}]
    more = normalize.network_interface(_nic(lambda d: _config(d)["loadBalancerBackendAddressPools"].extend(extra)))
    assert more.pools[key] == (f"{LB}/backendAddressPools/kubernetes", f"{LB}/backendAddressPools/other")
    assert normalize.network_interface(_nic(lambda d: d.pop("id"))).id == ""
    wrong = {
        "NIC.virtualMachine: expected an object": lambda d: d["properties"].update({"virtualMachine": "vm0"}),
        "NIC.virtualMachine.id: expected a string": lambda d: d["properties"].update({"virtualMachine": {"id": 5}}),
        r"NIC.ipConfigurations\[0\].loadBalancerBackendAddressPools\[1\].id: expected a string": lambda d: _config(d)[
            "loadBalancerBackendAddressPools"
        ].append({"id": 3}),
        r"NIC.ipConfigurations\[0\].loadBalancerBackendAddressPools: expected a list": lambda d: _config(d).update(
            {"loadBalancerBackendAddressPools": {"id": "x"}}
        ),
        r"NIC.ipConfigurations\[0\].privateIPAddress: expected a string": lambda d: _config(d).update(
            {"privateIPAddress": 10}
        ),
        r"NIC.ipConfigurations\[0\].id: expected a string": lambda d: d["properties"]["ipConfigurations"][0].update(
            {"id": 1}
        ),
    }
    for message, change in wrong.items():
        with pytest.raises(ShapeError, match=message):
            normalize.network_interface(_nic(change), "NIC")
