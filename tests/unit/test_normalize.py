"""One canonical model from every shape ARM and Kubernetes documents come in (probe-semantics.md §6)."""

from __future__ import annotations

import pytest

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


def snake(doc):
    """azure-mgmt-network ≤ 30 as_dict(): flattened and snake_case."""
    names = {
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
    }
    flat = az_flattened(doc)

    def conv(obj):
        if isinstance(obj, list):
            return [conv(o) for o in obj]
        if isinstance(obj, dict):
            return {names.get(k, k): conv(v) for k, v in obj.items() if k != "resourceGroup"}
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
