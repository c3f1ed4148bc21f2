"""Named lab scenarios: small AKS clusters that show one load-balancer situation each.

``build("cluster-tcp")`` returns a fresh :class:`~akslbctl.lab.cluster.LabCluster`; a scenario with a
parameter takes it after a colon (``large:5000``). Every scenario's main Service is ``default/web``,
so ``akslbctl lab run SCENARIO -- explain svc/web`` works for all of them. Descriptions say what an
operator sees and why, in one line.
"""

from __future__ import annotations

from collections.abc import Callable

from akslbctl.lab.behaviours import Closed, Hang, Http, Reply
from akslbctl.lab.cluster import AksBuilder, LabCluster
from akslbctl.records import record


@record(frozen=True)
class Scenario:
    name: str
    description: str
    factory: Callable[[str | None], LabCluster]
    parameter: str | None = None  # what "name:VALUE" means, e.g. "nodes"

    def build(self, value: str | None = None) -> LabCluster:
        if value is not None and self.parameter is None:
            raise ValueError(f"scenario {self.name} takes no parameter")
        return self.factory(value)


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, description: str, parameter: str | None = None) -> Callable:
    def register(factory: Callable[[str | None], LabCluster]) -> Callable[[str | None], LabCluster]:
        SCENARIOS[name] = Scenario(name, description, factory, parameter)
        return factory

    return register


def build(spec: str) -> LabCluster:
    """``"name"`` or ``"name:value"`` → a new cluster. Unknown names raise KeyError listing the known."""
    name, sep, value = spec.partition(":")
    found = SCENARIOS.get(name)
    if found is None:
        raise KeyError(f"unknown lab scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}")
    return found.build(value if sep else None)


def names() -> list[str]:
    return list(SCENARIOS)


def _builder(name: str, **kwargs) -> AksBuilder:
    return AksBuilder(name=name, description=SCENARIOS[name].description, **kwargs)


INGRESS_DEFAULT_BACKEND = Http(
    default=Reply(404, b"default backend - 404", (("Content-Type", "text/plain"),)),
    routes={"/healthz": Reply(200, b"", (("Content-Type", "text/html"),))},
)
"""An ingress controller without a catch-all Ingress: 404 on ``/``, 200 on ``/healthz`` (C01)."""


@scenario(
    "cluster-tcp",
    "Cluster policy, Tcp probe on nodePort 30396: all 3 nodes up — kube-proxy forwards the probe to "
    "one of the 2 pods from any node.",
)
def _cluster_tcp(_: str | None) -> LabCluster:
    b = _builder("cluster-tcp")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    return b.build()


@scenario(
    "local-http",
    "Local policy, Http probe /healthz on healthCheckNodePort 32649: node 2 runs no pod, answers 503 "
    "(localEndpoints 0) and is out of rotation by design.",
)
def _local_http(_: str | None) -> LabCluster:
    b = _builder("local-http")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31080}],
        policy="Local",
        health_check_node_port=32649,
        endpoints_on=[0, 1],
    )
    return b.build()


@scenario(
    "appprotocol-404",
    "appProtocol: http makes the probe Http on / of nodePort 31380; the ingress default backend "
    "answers 404 there (200 on /healthz): every node down.",
)
def _appprotocol_404(_: str | None) -> LabCluster:
    b = _builder("appprotocol-404")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31380, "appProtocol": "http"}],
        endpoints_on=[0, 1],
        app=INGRESS_DEFAULT_BACKEND,
    )
    return b.build()


@scenario(
    "stale-probe-port",
    "The probe still targets the old nodePort 31000 while the Service now uses 30396: refused on "
    "every node, every node down (probe drift).",
)
def _stale_probe_port(_: str | None) -> LabCluster:
    b = _builder("stale-probe-port")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    b.set_probe("web", 80, port=31000)
    b.add_event(
        "web",
        "SyncLoadBalancerFailed",
        "Error syncing load balancer: failed to ensure load balancer: Retriable: true, RetryAfter: 0s, "
        "HTTPStatusCode: 429, RawError: Retriable: true, RetryAfter: 0s, HTTPStatusCode: 429",
        count=7,
    )
    return b.build()


@scenario(
    "node-missing-from-pool",
    "Node 2 is missing from the kubernetes backend pool: the LB neither probes it nor sends it "
    "traffic, though it answers on the nodePort.",
)
def _node_missing(_: str | None) -> LabCluster:
    b = _builder("node-missing-from-pool")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    b.remove_from_pool(2)
    return b.build()


@scenario(
    "hanging-health",
    "Local policy; node 1's health check port 32650 accepts and never answers: Azure reports "
    "Down_Probe_HttpNoResponse, a probe times out.",
)
def _hanging_health(_: str | None) -> LabCluster:
    b = _builder("hanging-health")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31081}],
        policy="Local",
        health_check_node_port=32650,
        endpoints_on=[0, 1, 2],
    )
    b.node_behaviour(1, 32650, Hang())
    return b.build()


@scenario(
    "no-endpoints",
    "Cluster policy with no ready pod anywhere: kube-proxy rejects nodePort 30396 on every node, so "
    "every node is down.",
)
def _no_endpoints(_: str | None) -> LabCluster:
    b = _builder("no-endpoints")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[])
    return b.build()


@scenario(
    "internal-lb",
    "Internal Service on LB kubernetes-internal with private frontend 10.224.0.100; Tcp probe on "
    "nodePort 30397, all nodes up.",
)
def _internal_lb(_: str | None) -> LabCluster:
    b = _builder("internal-lb")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30397}], internal=True, endpoints_on=[0, 1])
    return b.build()


@scenario(
    "node-ip-pool",
    "IP-based backend pool (nodeIP): members are node addresses, not NIC ipConfigurations; Tcp probe "
    "on nodePort 30396, all nodes up.",
)
def _node_ip_pool(_: str | None) -> LabCluster:
    b = _builder("node-ip-pool", pool_type="nodeIP")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    return b.build()


@scenario(
    "shared-probe",
    "Shared probe mode: every rule uses cluster-service-shared-health-probe (Http :10256/healthz); "
    "node 2 is tainted ToBeDeletedByClusterAutoscaler, kube-proxy answers 503: draining by design.",
)
def _shared_probe(_: str | None) -> LabCluster:
    b = _builder("shared-probe", version="v1.31.2", probe_mode="shared")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    b.taint(2)
    return b.build()


@scenario(
    "udp-no-probe",
    "UDP port 53 in servicenodeport mode: the rule has no health probe, so the LB sends to every "
    "pool member whatever it answers.",
)
def _udp_no_probe(_: str | None) -> LabCluster:
    b = _builder("udp-no-probe")
    b.add_service("web", ports=[{"port": 53, "protocol": "UDP", "nodePort": 30053}], endpoints_on=[0, 1])
    return b.build()


@scenario(
    "multi-service",
    "Three LoadBalancer Services in two namespaces (default/web Cluster, default/api Local, shop/store "
    "internal) and a ClusterIP one (default/cache): for -A.",
)
def _multi_service(_: str | None) -> LabCluster:
    b = _builder("multi-service")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    b.add_service(
        "api",
        ports=[{"port": 443, "nodePort": 31443}],
        policy="Local",
        health_check_node_port=32100,
        endpoints_on=[1],
    )
    b.add_service("store", namespace="shop", ports=[{"port": 8080, "nodePort": 30808}], internal=True, endpoints_on=[2])
    b.add_service("cache", ports=[6379], type="ClusterIP", endpoints_on=[0])
    return b.build()


@scenario(
    "rule-health-forbidden",
    "As cluster-tcp, but the identity may not call the rule-health action (403 AuthorizationFailed): "
    "Azure's own view is unavailable, the probes still decide.",
)
def _rule_health_forbidden(_: str | None) -> LabCluster:
    b = _builder("rule-health-forbidden")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    b.arm_forbidden("rule-health")
    return b.build()


@scenario(
    "nsg-blocks-probe",
    "Every node answers on nodePort 30396, yet Azure reports Down_Probe_TcpProbeTimeout on all: an "
    "NSG rule denies 168.63.129.16 before AllowAzureLoadBalancerInBound.",
)
def _nsg_blocks_probe(_: str | None) -> LabCluster:
    b = _builder("nsg-blocks-probe")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    # On the node NSG: Deny AzureLoadBalancer → :30396 at 400, ahead of AllowAzureLoadBalancerInBound.
    b.block_probe_source("nic", "DenyAzureLoadBalancerInBound", 400, source="AzureLoadBalancer")
    return b.build()


@scenario(
    "large",
    "N nodes (default 1000; large:5000) with one Cluster Service, Tcp probe on nodePort 30396: for "
    "benchmarks; all nodes up.",
    parameter="nodes",
)
def _large(value: str | None) -> LabCluster:
    try:
        n = int(value) if value else 1000
    except ValueError:
        raise ValueError(f"large:N needs a node count, not {value!r}") from None
    if not 1 <= n <= 60_000:
        raise ValueError("large:N takes 1 to 60000 nodes")
    b = _builder("large", nodes=n, aks_nodes=True)
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1] if n > 1 else [0])
    return b.build(name=f"large-{n}")


# -- drift: the LB is not what the provider would build now (akslbctl diff) ---------------------

_PROBE_REQUEST_PATH = "service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path"
_PROBE_INTERVAL = "service.beta.kubernetes.io/azure-load-balancer-health-probe-interval"


@scenario(
    "stale-request-path",
    "The request-path annotation now says /healthz, but the probe still asks / on nodePort 31380 where "
    "the ingress answers 404: the change is not applied yet, every node down.",
)
def _stale_request_path(_: str | None) -> LabCluster:
    b = _builder("stale-request-path")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31380, "appProtocol": "http"}],
        endpoints_on=[0, 1],
        app=INGRESS_DEFAULT_BACKEND,
    )
    b.annotate("default/web", _PROBE_REQUEST_PATH, "/healthz")
    return b.build()


@scenario(
    "missing-rule",
    "Port 443 (nodePort 30443) was added to the Service, but the LB has no rule or probe for it: "
    "clients of port 443 get no answer while port 80 works.",
)
def _missing_rule(_: str | None) -> LabCluster:
    b = _builder("missing-rule")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}, {"port": 443, "nodePort": 30443}], endpoints_on=[0, 1])
    b.drop_rule("default/web", 443)
    return b.build()


@scenario(
    "stale-rule",
    "A rule and Tcp probe for port 8080, since removed from the Service, are still on the LB: clients "
    "of port 8080 still reach the nodes.",
)
def _stale_rule(_: str | None) -> LabCluster:
    b = _builder("stale-rule")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    b.add_stale_rule("default/web", 8080, probe_port=30808)
    return b.build()


@scenario(
    "invalid-annotation",
    "The health-probe-interval annotation is 3 (minimum 5): the provider's reconcile fails and the LB "
    "keeps its previous Tcp probe every 5 s on nodePort 30396.",
)
def _invalid_annotation(_: str | None) -> LabCluster:
    b = _builder("invalid-annotation")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    b.annotate("default/web", _PROBE_INTERVAL, "3")
    b.add_event(
        "web",
        "SyncLoadBalancerFailed",
        "Error syncing load balancer: failed to ensure load balancer: failed to parse annotation "
        f"{_PROBE_INTERVAL}: the minimum value of interval is 5",
        count=4,
    )
    return b.build()


@scenario(
    "large-local",
    "N nodes (default 1000; large-local:5000), Local policy, Http probe /healthz on healthCheckNodePort "
    "32700: a pod on 9 of every 10 nodes (200), none on the rest (503): for benchmarks.",
    parameter="nodes",
)
def _large_local(value: str | None) -> LabCluster:
    try:
        n = int(value) if value else 1000
    except ValueError:
        raise ValueError(f"large-local:N needs a node count, not {value!r}") from None
    if not 1 <= n <= 20_000:
        raise ValueError("large-local:N takes 1 to 20000 nodes")
    b = _builder("large-local", nodes=n, aks_nodes=True)
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 30397}],
        policy="Local",
        health_check_node_port=32700,
        endpoints_on=[i for i in range(n) if i % 10 != 9] or [0],
    )
    return b.build(name=f"large-local-{n}")


@scenario(
    "mixed-30",
    "30 nodes, Local policy, Http probe /healthz on healthCheckNodePort 32649: a pod on 22 nodes (up), "
    "none on 6 (503, down by design), and two nodes with pods that fail the probe (node 5 hangs, node 12 "
    "refuses): a table past 20 rows shows those first and folds the rest.",
)
def _mixed_30(_: str | None) -> LabCluster:
    b = _builder("mixed-30", nodes=30)
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31080}],
        policy="Local",
        health_check_node_port=32649,
        endpoints_on=list(range(24)),
    )
    b.node_behaviour(5, 32649, Hang())
    b.node_behaviour(12, 32649, Closed())
    return b.build()


# -- the network path: vantage point, NSGs, dual-stack, Private Link (field cases C07, C08, C15, C16)


def _local_http_builder(name: str, **kwargs) -> AksBuilder:
    b = _builder(name, **kwargs)
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31080}],
        policy="Local",
        health_check_node_port=32649,
        endpoints_on=[0, 1],
    )
    return b


def _cluster_tcp_builder(name: str, **kwargs) -> AksBuilder:
    b = _builder(name, **kwargs)
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    return b


@scenario(
    "laptop-azure-up",
    "local-http seen from a laptop that reaches no node: every probe of ours times out, while Azure "
    "reports nodes 0 and 1 Up and node 2 Down (503, no local pod) as designed.",
)
def _laptop_azure_up(_: str | None) -> LabCluster:
    return _local_http_builder("laptop-azure-up").unreachable_from_here().build()


@scenario(
    "laptop-no-azure",
    "As laptop-azure-up, but the rule-health action is forbidden too (403): no node answers us and "
    "Azure's own view is unavailable, so nothing can be concluded.",
)
def _laptop_no_azure(_: str | None) -> LabCluster:
    return _local_http_builder("laptop-no-azure").unreachable_from_here().arm_forbidden("rule-health").build()


@scenario(
    "nsg-subnet-blocks-probe",
    "Subnet NSG custom-subnet-nsg rule DenyInternet (400, Deny, source *) covers probe port 30396 ahead "
    "of AllowAzureLoadBalancerInBound: Azure Down_Probe_TcpProbeTimeout on all 3, the nodes answer us.",
)
def _nsg_subnet_blocks_probe(_: str | None) -> LabCluster:
    return _cluster_tcp_builder("nsg-subnet-blocks-probe").block_probe_source("subnet", "DenyInternet", 400).build()


@scenario(
    "nsg-nic-blocks-probe",
    "Node NSG rule DenyAzureLB (400, Deny, source *) covers probe port 30396 ahead of "
    "AllowAzureLoadBalancerInBound: Azure Down_Probe_TcpProbeTimeout on all 3, the nodes answer us.",
)
def _nsg_nic_blocks_probe(_: str | None) -> LabCluster:
    return _cluster_tcp_builder("nsg-nic-blocks-probe").block_probe_source("nic", "DenyAzureLB", 400).build()


@scenario(
    "nsg-subnet-no-client-rule",
    "Subnet NSG custom-subnet-nsg has only Azure's default rules: Internet clients of port 80 hit "
    "DenyAllInBound (65500) while the probes pass (65001), so all 3 nodes are up but blocked.",
)
def _nsg_subnet_no_client_rule(_: str | None) -> LabCluster:
    return _cluster_tcp_builder("nsg-subnet-no-client-rule").subnet_nsg().build()


@scenario(
    "dualstack-ipv6-down",
    "Dual-stack Cluster Service on Cilium, Tcp probes on nodePort 30396: the IPv4 rule is Up on all 3 "
    "nodes, the -IPv6 rule Down_Probe_TcpProbeTimeout on all 3, yet every node answers on both families.",
)
def _dualstack_ipv6_down(_: str | None) -> LabCluster:
    b = _builder("dualstack-ipv6-down", data_plane="cilium")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1], ip_families=("IPv4", "IPv6"))
    return b.ipv6_down().build()


@scenario(
    "pls-proxy-protocol",
    "Internal Local Service behind a Private Link Service with proxy protocol (CCM v1.27.3 keeps the Http "
    "probe /healthz on 32001): Azure Down on all 3, a plain GET answers 200 on nodes 0 and 1.",
)
def _pls_proxy_protocol(_: str | None) -> LabCluster:
    b = _builder("pls-proxy-protocol", version="v1.27.3")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31001}],
        policy="Local",
        health_check_node_port=32001,
        internal=True,
        endpoints_on=[0, 1],
    )
    return b.private_link("default/web", proxy_protocol=True).build()


@scenario(
    "nsg-byo-vnet-forbidden",
    "cluster-tcp on a BYO VNet corp-vnet in resource group rg-network, which the identity may not read "
    "(403 on the VNet and subnet); the node NSG and the LB are readable, all 3 nodes up.",
)
def _nsg_byo_vnet_forbidden(_: str | None) -> LabCluster:
    b = _builder("nsg-byo-vnet-forbidden").byo_vnet("rg-network", "corp-vnet")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    return b.arm_forbidden("rg:rg-network").build()


# -- why there is no LB, or no node (contract §5.2): events, pending Services, pool gaps, node state ---

_SUB = "00000000-0000-0000-0000-000000000000"
_NET_RG = f"/subscriptions/{_SUB}/resourceGroups/net-rg/providers/Microsoft.Network"
_MC_RG = f"/subscriptions/{_SUB}/resourceGroups/mc_rg_aks_westeurope/providers/Microsoft.Network"
_TRACK1 = (
    "Error syncing load balancer: failed to ensure load balancer: Retriable: false, RetryAfter: {after}, "
    "HTTPStatusCode: {status}, RawError: Retriable: false, RetryAfter: {after}, HTTPStatusCode: {status}, "
    'RawError: {{"error":{{"code":"{code}","message":"{message}"}}}}'
)
_TRACK2 = (
    "Error syncing load balancer: failed to ensure load balancer: RESPONSE {status}: {status} {phrase}\n"
    "ERROR CODE: {code}\n"
    "--------------------------------------------------------------------------------\n"
    '{{\n  "error": {{\n    "code": "{code}",\n    "message": "{message}"\n  }}\n}}\n'
    "--------------------------------------------------------------------------------\n"
)


def _pending(name: str, message: str, *, count: int = 12, ago: int = 180, **service) -> AksBuilder:
    b = _builder(name, version=service.pop("version", "v1.29.4"))
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1], **service)
    b.unprovision("web")
    b.add_event("default/web", "EnsuringLoadBalancer", "Ensuring load balancer", type="Normal", count=count, ago=ago)
    b.add_event("default/web", "SyncLoadBalancerFailed", message, count=count, ago=ago)
    return b


@scenario(
    "pending-permission",
    "Internal Service stuck <pending>: SyncLoadBalancerFailed ×12, AuthorizationFailed on subnet ilb-subnet "
    "in resource group net-rg (track-1 message) — the cluster identity lacks Network Contributor there.",
)
def _pending_permission(_: str | None) -> LabCluster:
    scope = f"{_NET_RG}/virtualNetworks/net-vnet/subnets/ilb-subnet"
    message = _TRACK1.format(
        after="0s",
        status=403,
        code="AuthorizationFailed",
        message=(
            "The client '6f1c0a52-0c1d-4d3a-9d4e-2b9f6f0a7c11' with object id '6f1c0a52-0c1d-4d3a-9d4e-2b9f6f0a7c11' "
            "does not have authorization to perform action 'Microsoft.Network/virtualNetworks/subnets/read' over "
            f"scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your "
            "credentials."
        ),
    )
    annotations = {"service.beta.kubernetes.io/azure-load-balancer-internal-subnet": "ilb-subnet"}
    return _pending("pending-permission", message, internal=True, annotations=annotations).build()


@scenario(
    "pending-subnet-full",
    "Internal Service stuck <pending>: SubnetIsFull (track-2 message, HTTP 400) — no free address in the "
    "subnet for the frontend.",
)
def _pending_subnet_full(_: str | None) -> LabCluster:
    message = _TRACK2.format(
        status=400,
        phrase="Bad Request",
        code="SubnetIsFull",
        message="Subnet aks-subnet with address prefix 10.224.0.0/28 does not have enough capacity for 1 IP addresses.",
    )
    return _pending("pending-subnet-full", message, internal=True, count=5, ago=600).build()


@scenario(
    "pending-pip-quota",
    "Public Service stuck <pending>: PublicIPCountLimitReached (track-2, HTTP 400) — the subscription's "
    "public IP quota in the region is used up.",
)
def _pending_pip_quota(_: str | None) -> LabCluster:
    message = _TRACK2.format(
        status=400,
        phrase="Bad Request",
        code="PublicIPCountLimitReached",
        message="Cannot create more than 10 public IP addresses for this subscription in this region.",
    )
    return _pending("pending-pip-quota", message, count=3, ago=90).build()


@scenario(
    "pending-pip-missing",
    "Public Service stuck <pending>: the azure-pip-name annotation names public IP web-pip in resource "
    "group net-rg, which does not exist (ResourceNotFound, track-2, HTTP 404).",
)
def _pending_pip_missing(_: str | None) -> LabCluster:
    message = _TRACK2.format(
        status=404,
        phrase="Not Found",
        code="ResourceNotFound",
        message="The Resource 'Microsoft.Network/publicIPAddresses/web-pip' under resource group 'net-rg' was "
        "not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )
    annotations = {
        "service.beta.kubernetes.io/azure-pip-name": "web-pip",
        "service.beta.kubernetes.io/azure-load-balancer-resource-group": "net-rg",
    }
    return _pending("pending-pip-missing", message, annotations=annotations).build()


@scenario(
    "pending-sku-mismatch",
    "Public Service stuck <pending>: the Standard LB cannot use the Basic public IP that "
    "azure-pip-name names (PublicIPAndLBSkuDoNotMatch, track-1, HTTP 400).",
)
def _pending_sku(_: str | None) -> LabCluster:
    lb = f"{_MC_RG}/loadBalancers/kubernetes"
    pip = f"{_MC_RG}/publicIPAddresses/basic-pip"
    message = _TRACK1.format(
        after="0s",
        status=400,
        code="PublicIPAndLBSkuDoNotMatch",
        message=f"Standard sku load balancer {lb} cannot reference Basic sku publicIP {pip}.",
    )
    annotations = {"service.beta.kubernetes.io/azure-pip-name": "basic-pip"}
    return _pending("pending-sku-mismatch", message, annotations=annotations).build()


@scenario(
    "pending-throttled",
    "Public Service stuck <pending>: ARM throttles the cloud provider (HTTP 429 TooManyRequests, "
    "RetryAfter 5m0s, track-1).",
)
def _pending_throttled(_: str | None) -> LabCluster:
    message = _TRACK1.format(
        after="5m0s",
        status=429,
        code="TooManyRequests",
        message="The request is being throttled as the limit has been reached for operation type - "
        "Write_ObservationWindow_00:05:00.",
    )
    return _pending("pending-throttled", message, count=40, ago=30).build()


@scenario(
    "pending-invalid-probe",
    "Kubernetes 1.21 (cloud provider ≤ v1.23.3): externalTrafficPolicy Local with the global "
    "health-probe-protocol annotation TCP; ARM rejects the probe (400 InvalidParameter) and the Service "
    "stays <pending> (kubernetes/kubernetes#102803).",
)
def _pending_invalid_probe(_: str | None) -> LabCluster:
    probe = (
        f"/subscriptions/{_SUB}/resourceGroups/mc_rg_aks_westeurope/providers/Microsoft.Network/loadBalancers/"
        "kubernetes/probes/a1b2c3d4e5f60718293a4b5c6d7e8f90-TCP-80"
    )
    message = (
        "Error syncing load balancer: failed to ensure load balancer: network.LoadBalancersClient#CreateOrUpdate: "
        'Failure sending request: StatusCode=400 -- Original Error: Code="InvalidParameter" '
        f'Message="Required parameter \'requestPath\' is missing (null)." Target="{probe}"'
    )
    annotations = {"service.beta.kubernetes.io/azure-load-balancer-health-probe-protocol": "TCP"}
    b = _pending("pending-invalid-probe", message, version="v1.21.14", policy="Local", annotations=annotations)
    return b.build()


@scenario(
    "pending-no-events",
    "Public Service stuck <pending> and the cloud provider has written no event at all: it may not be "
    "able to authenticate to Azure. akslbctl cannot tell more (exit 3).",
)
def _pending_no_events(_: str | None) -> LabCluster:
    b = _builder("pending-no-events")
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396}], endpoints_on=[0, 1])
    return b.unprovision("web").build()


@scenario(
    "update-failing",
    "cluster-tcp whose last reconcile failed after it was built (UpdateLoadBalancerFailed, 409 "
    "AnotherOperationInProgress): the LB works as it was; changes wait for the next reconcile.",
)
def _update_failing(_: str | None) -> LabCluster:
    b = _cluster_tcp_builder("update-failing")
    b.add_event("default/web", "EnsuredLoadBalancer", "Ensured load balancer", type="Normal", ago=3600)
    message = _TRACK2.format(
        status=409,
        phrase="Conflict",
        code="AnotherOperationInProgress",
        message="Another operation on this or dependent resource is in progress.",
    ).replace("failed to ensure load balancer", "failed to update load balancer")
    b.add_event("default/web", "UpdateLoadBalancerFailed", message, count=2, ago=60)
    return b.build()


@scenario(
    "pool-nic-other-lb",
    "Node 2's NIC ipConfiguration is already in pool corp-pool of the user's load balancer corp-lb: the "
    "provider skips it silently, so it is missing from kubernetes.",
)
def _pool_nic_other_lb(_: str | None) -> LabCluster:
    return _cluster_tcp_builder("pool-nic-other-lb").nic_in_other_lb(2).build()


@scenario(
    "virtual-node",
    "cluster-tcp plus an ACI virtual node (virtual-kubelet, no providerID) without the exclude label, as "
    "older virtual nodes were: it is never in the pool because it is no VM.",
)
def _virtual_node(_: str | None) -> LabCluster:
    return _cluster_tcp_builder("virtual-node").add_virtual_node(exclude_label=False).build()


@scenario(
    "vm-stopped",
    "Node 2's VM is deallocated: the node is NotReady, answers nothing, and the provider left it out of "
    "the pool (its instance view says PowerState/deallocated).",
)
def _vm_stopped(_: str | None) -> LabCluster:
    return _cluster_tcp_builder("vm-stopped").stop_vm(2).build()


@scenario(
    "notready-new",
    "Kubernetes 1.29: node 1 is NotReady but stays in the pool (StableLoadBalancerNodeSet); the probe "
    "decides, and its kube-proxy still answers.",
)
def _notready_new(_: str | None) -> LabCluster:
    return _cluster_tcp_builder("notready-new").mark_not_ready(1).build()


@scenario(
    "notready-old",
    "Kubernetes 1.26: node 1 is NotReady and still in the pool; the v1.26 provider excludes NotReady nodes "
    "itself, so the member is stale until the next reconcile of a Service on this LB.",
)
def _notready_old(_: str | None) -> LabCluster:
    return _cluster_tcp_builder("notready-old", version="v1.26.15").mark_not_ready(1).build()


@scenario(
    "cordoned",
    "Kubernetes 1.29: node 1 is cordoned (unschedulable); cordoned nodes stay in LB pools since 1.19 and "
    "keep receiving traffic.",
)
def _cordoned(_: str | None) -> LabCluster:
    return _cluster_tcp_builder("cordoned").cordon(1).build()


@scenario(
    "cordoned-old",
    "Kubernetes 1.18: node 1 is cordoned; before 1.19 the service controller left cordoned nodes out of "
    "the pool — here it has already been removed.",
)
def _cordoned_old(_: str | None) -> LabCluster:
    return _cluster_tcp_builder("cordoned-old", version="v1.18.20").cordon(1).remove_from_pool(1).build()


# -- inside the cluster: the application, a gateway, NetworkPolicy, the share (C02, C03, C09, C17) ----

_FORBIDDEN_PAGE = Reply(
    403,
    b"<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n"
    b"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
    (("Server", "nginx"), ("Content-Type", "text/html")),
)


@scenario(
    "app-403-header",
    "The probe is Http /healthz on nodePort 31380, but an ingress rule answers 403 to any request without "
    "X-Azure-FDID (Front Door): every node down, and the pods are Ready.",
)
def _app_403_header(_: str | None) -> LabCluster:
    b = _builder("app-403-header")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31380, "appProtocol": "http", "targetPort": 8080}],
        endpoints_on=[0, 1],
        app=Http(default=_FORBIDDEN_PAGE),
        annotations={_PROBE_REQUEST_PATH: "/healthz"},
    )
    b.pod_spec(
        "web",
        [
            {
                "name": "controller",
                "image": "registry.k8s.io/ingress-nginx/controller:v1.10.1",
                "ports": [{"name": "http", "containerPort": 8080}],
                "readinessProbe": {
                    "httpGet": {
                        "path": "/ready",
                        "port": 8080,
                        "httpHeaders": [{"name": "X-Azure-FDID", "value": "0f0e0d0c-lab"}],
                    }
                },
            }
        ],
    )
    return b.build()


_ENVOY_404 = Reply(404, b"", (("Server", "istio-envoy"),))


@scenario(
    "gateway-data-port",
    "An Istio-like gateway: appProtocol http makes the probe Http / on data nodePort 31080, where Envoy "
    "answers 404; the pods answer readiness on status-port 15021 /healthz/ready (nodePort 31021).",
)
def _gateway_data_port(_: str | None) -> LabCluster:
    b = _builder("gateway-data-port")
    b.add_service(
        "web",
        ports=[
            {"name": "status-port", "port": 15021, "targetPort": 15021, "nodePort": 31021},
            {"name": "http2", "port": 80, "targetPort": 8080, "nodePort": 31080, "appProtocol": "http"},
        ],
        endpoints_on=[0, 1],
        app={
            80: Http(default=_ENVOY_404),
            15021: Http(default=_ENVOY_404, routes={"/healthz/ready": Reply(200, b"", (("Server", "envoy"),))}),
        },
    )
    b.pod_spec(
        "web",
        [
            {
                "name": "istio-proxy",
                "image": "docker.io/istio/proxyv2:1.22.0",
                "ports": [
                    {"name": "http2", "containerPort": 8080},
                    {"name": "status-port", "containerPort": 15021},
                    {"name": "http-envoy-prom", "containerPort": 15090},
                ],
                "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"}},
            }
        ],
        labels={"istio": "ingressgateway"},
    )
    return b.build()


_ALLOW_CLIENTS = {
    "podSelector": {"matchLabels": {"app": "web"}},
    "policyTypes": ["Ingress"],
    "ingress": [{"from": [{"ipBlock": {"cidr": "10.1.0.0/16"}}], "ports": [{"protocol": "TCP", "port": 8080}]}],
}


@scenario(
    "netpol-cross-node",
    "5 nodes, Cluster policy, pods on nodes 0 and 1; NetworkPolicy allow-clients admits only 10.1.0.0/16, "
    "so traffic the other 3 nodes forward (SNAT'd to their IPs) is dropped: their Tcp probe times out.",
)
def _netpol_cross_node(_: str | None) -> LabCluster:
    b = _builder("netpol-cross-node", nodes=5)
    b.add_service("web", ports=[{"port": 80, "nodePort": 30396, "targetPort": 8080}], endpoints_on=[0, 1])
    b.add_network_policy("allow-clients", _ALLOW_CLIENTS)
    return b.drop_forwarded("web").build()


@scenario(
    "netpol-local-clients",
    "Local policy with loadBalancerSourceRanges 203.0.113.0/24, but NetworkPolicy allow-clients admits only "
    "10.1.0.0/16: client addresses are kept, so the intended clients are dropped at the pods.",
)
def _netpol_local_clients(_: str | None) -> LabCluster:
    b = _builder("netpol-local-clients")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31080, "targetPort": 8080}],
        policy="Local",
        health_check_node_port=32649,
        endpoints_on=[0, 1],
        source_ranges=["203.0.113.0/24"],
    )
    return b.add_network_policy("allow-clients", _ALLOW_CLIENTS).build()


@scenario(
    "local-uneven-share",
    "Local policy with 1, 3 and 2 pods on nodes 0, 1 and 2: the LB gives each node a third, so the lone pod "
    "on node 0 takes 33 % of the traffic and each of node 1's pods 11 %.",
)
def _local_uneven_share(_: str | None) -> LabCluster:
    b = _builder("local-uneven-share")
    b.add_service(
        "web",
        ports=[{"port": 80, "nodePort": 31080}],
        policy="Local",
        health_check_node_port=32649,
        endpoints_on=[0, 1, 1, 1, 2, 2],
    )
    return b.build()
