"""diff against aks-lb-rules.md: every §6.2 case and every §6.7 version row, field by field.

Each case writes, by hand, the ARM objects the provider of one version would write (an independent
oracle: nothing here calls the expectation engine), runs them through the real normaliser and
``analyse``, and checks that the diff is empty under that version's rules and shows exactly the
expected fields under a version that behaves differently.
"""

from __future__ import annotations

from typing import Any

import pytest

from akslbctl.analysis import annotations as ann
from akslbctl.analysis.diff import PROBE_TARGET_FIELDS, compare_probe, diff
from akslbctl.analysis.engine import analyse
from akslbctl.analysis.verdict import diagnose
from akslbctl.collect import case_from_raw
from akslbctl.model.case import RawDocuments
from akslbctl.model.report import LoadBalancerDiff

UID = "7c3e1f09-b2d4-4e6a-1c5f-0e2d3b4a5961"
P = "a7c3e1f09b2d44e6a1c5f0e2d3b4a596"
SUB = "8f3c2a1e-5b7d-4c9e-a0f1-2d3e4b5c6a7f"
RG = "MC_rg_aks_westeurope"
NET = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network"
VMSS = "aks-nodepool1-12345678-vmss"
SHARED = "cluster-service-shared-health-probe"
PUBLIC_IP = "20.31.40.10"
PRIVATE_IP = "10.224.0.100"
H = 32001
K = "service.beta.kubernetes.io/"
NODES = [f"{VMSS}00000{i}" for i in range(3)]


# ---------------------------------------------------------------------------------------------
# What the provider writes, by hand


def port(name: str, number: int, node_port: int, protocol: str = "TCP", app: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": name, "port": number, "nodePort": node_port, "protocol": protocol}
    if app is not None:
        doc["appProtocol"] = app
    return doc


HTTP = port("http", 80, 31380)
HTTPS = port("https", 443, 31443)
DNS = port("dns", 53, 30053, "UDP")


def full(name: str) -> str:
    return name if name == SHARED else f"{P}-{name}"


def lb_id(name: str) -> str:
    return f"{NET}/loadBalancers/{name}"


def probe(
    name: str,
    protocol: str,
    number: int,
    path: str | None = None,
    interval: int = 5,
    threshold: int = 2,
    *,
    field: str = "probeThreshold",
) -> dict[str, Any]:
    props: dict[str, Any] = {"protocol": protocol, "port": number, "intervalInSeconds": interval, field: threshold}
    if path is not None:
        props["requestPath"] = path
    return {"name": full(name), "properties": props}


def old_probe(name: str, protocol: str, number: int, path: str | None = None, interval: int = 5) -> dict[str, Any]:
    """A probe as providers before v1.24.18 / v1.25.12 / v1.26.8 / v1.27.0 wrote it: numberOfProbes."""
    return probe(name, protocol, number, path, interval, field="numberOfProbes")


def rule(
    name: str,
    number: int,
    probe_name: str | None,
    *,
    protocol: str = "Tcp",
    backend: int | None = None,
    floating: bool = True,
    idle: int | None = 4,
    reset: bool | None = None,
    distribution: str = "Default",
    snat: bool = False,
    pool: str = "kubernetes",
    frontend: str = P,
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "protocol": protocol,
        "frontendPort": number,
        "backendPort": number if backend is None else backend,
        "enableFloatingIP": floating,
        "loadDistribution": distribution,
        "disableOutboundSnat": snat,
        "frontendIPConfiguration": {"id": f"@LB/frontendIPConfigurations/{frontend}"},
        "backendAddressPool": {"id": f"@LB/backendAddressPools/{pool}"},
    }
    if idle is not None:
        props["idleTimeoutInMinutes"] = idle
    if protocol == "Tcp" and reset is None:
        reset = True
    if reset is not None:
        props["enableTcpReset"] = reset
    if probe_name is not None:
        props["probe"] = {"id": f"@LB/probes/{full(probe_name)}"}
    return {"name": full(name), "properties": props}


def ipconfig(i: int) -> str:
    return (
        f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/{VMSS}/"
        f"virtualMachines/{i}/networkInterfaces/{VMSS}/ipConfigurations/ipconfig1"
    )


def node_ip(i: int) -> str:
    return f"10.224.0.{4 + i}"


def load_balancer(
    rules: list[dict[str, Any]],
    probes: list[dict[str, Any]],
    *,
    internal: bool = False,
    sku: str = "Standard",
    members: list[int] | None = None,
    ip_pool: bool = False,
    extra_addresses: tuple[str, ...] = (),
    frontends: tuple[str, ...] = (P,),
    frontend_ip: str | None = None,
) -> dict[str, Any]:
    name = "kubernetes-internal" if internal else "kubernetes"
    this = lb_id(name)
    members = [0, 1, 2] if members is None else members
    pool_props: dict[str, Any]
    if ip_pool:
        addresses = [{"name": NODES[i], "properties": {"ipAddress": node_ip(i)}} for i in members]
        addresses += [{"name": f"member-{a}", "properties": {"ipAddress": a}} for a in extra_addresses]
        pool_props = {"loadBalancerBackendAddresses": addresses}
    else:
        pool_props = {"backendIPConfigurations": [{"id": ipconfig(i)} for i in members]}
    fronts = []
    for fe in frontends:
        if internal:
            props = {"privateIPAddress": frontend_ip or PRIVATE_IP, "privateIPAddressVersion": "IPv4"}
        else:
            props = {"publicIPAddress": {"id": f"{NET}/publicIPAddresses/kubernetes-{fe}"}}
        fronts.append({"name": fe, "id": f"{this}/frontendIPConfigurations/{fe}", "properties": props})

    def resolve(doc: dict[str, Any], kind: str) -> dict[str, Any]:
        out = {**doc, "id": f"{this}/{kind}/{doc['name']}", "properties": dict(doc["properties"])}
        for key in ("frontendIPConfiguration", "backendAddressPool", "probe"):
            ref = out["properties"].get(key)
            if ref:
                out["properties"][key] = {"id": ref["id"].replace("@LB", this)}
        return out

    return {
        "name": name,
        "id": this,
        "sku": {"name": sku},
        "properties": {
            "frontendIPConfigurations": fronts,
            "backendAddressPools": [
                {"name": "kubernetes", "id": f"{this}/backendAddressPools/kubernetes", "properties": pool_props}
            ],
            "loadBalancingRules": [resolve(r, "loadBalancingRules") for r in rules],
            "probes": [resolve(p, "probes") for p in probes],
        },
    }


def node_doc(i: int, *, labels: dict[str, str] | None = None, ready: bool = True, **spec: Any) -> dict[str, Any]:
    return {
        "kind": "Node",
        "metadata": {"name": NODES[i], "labels": {"kubernetes.io/hostname": NODES[i], **(labels or {})}},
        "spec": {
            "providerID": f"azure:///subscriptions/{SUB}/resourceGroups/{RG.lower()}/providers/Microsoft.Compute/"
            f"virtualMachineScaleSets/{VMSS}/virtualMachines/{i}",
            **spec,
        },
        "status": {
            "addresses": [{"type": "InternalIP", "address": node_ip(i)}],
            "conditions": [{"type": "Ready", "status": "True" if ready else "Unknown"}],
        },
    }


def service_doc(
    ports: list[dict[str, Any]], annotations: dict[str, str] | None = None, *, internal: bool = False, **spec: Any
) -> dict[str, Any]:
    annotations = dict(annotations or {})
    if internal:
        annotations[ann.INTERNAL] = "true"
    spec = {"type": "LoadBalancer", "ports": ports, "externalTrafficPolicy": "Cluster", **spec}
    if spec["externalTrafficPolicy"] == "Local":
        spec.setdefault("healthCheckNodePort", H)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop", "uid": UID, "annotations": annotations},
        "spec": spec,
        "status": {"loadBalancer": {"ingress": [{"ip": PRIVATE_IP if internal else PUBLIC_IP}]}},
    }


def pip_doc(ip: str = PUBLIC_IP) -> dict[str, Any]:
    return {
        "name": f"kubernetes-{P}",
        "id": f"{NET}/publicIPAddresses/kubernetes-{P}",
        "properties": {"ipAddress": ip},
    }


def run(
    service: dict[str, Any],
    lb: dict[str, Any],
    version: str | None = None,
    *,
    server: str = "v1.29.4",
    nodes: list[dict[str, Any]] | None = None,
    pip: dict[str, Any] | None = None,
) -> LoadBalancerDiff:
    raw = RawDocuments(
        service=service,
        nodes=tuple(nodes if nodes is not None else [node_doc(i) for i in range(3)]),
        load_balancers=(lb,),
        public_ips=(pip or pip_doc(),),
        version={"gitVersion": server},
    )
    case = case_from_raw(raw, subscription=SUB, resource_group=RG)
    return diff(analyse(case, provider_version=version))


def fields(d: LoadBalancerDiff) -> set[tuple[str, str, str]]:
    """(kind, name without the Service's prefix, field) of every difference."""
    return {(x.kind, x.name.replace(f"{P}-", ""), x.field) for x in d.differences}


def only(d: LoadBalancerDiff):
    assert len(d.differences) == 1, d.differences
    return d.differences[0]


# ---------------------------------------------------------------------------------------------
# §6.2 — every row of the cases table: empty under the version that wrote it, exact under another

LOCAL = {"externalTrafficPolicy": "Local"}
PORT_443_OVERRIDE = {
    ann.probe_key(443, "port"): "10256",
    ann.probe_key(443, "protocol"): "http",
    ann.probe_key(443, "request-path"): "/healthz",
}

CASES_6_2 = [
    pytest.param(
        service_doc([HTTP]),
        load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)]),
        "master",
        "v1.24.10",
        {("probe", "TCP-80", "numberOfProbes")},
        id="cluster-tcp-no-annotations",
    ),
    pytest.param(
        service_doc([port("http", 80, 31380, app="HTTP")]),
        load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Http", 31380, "/")]),
        "master",
        "v1.22",
        {("probe", "TCP-80", "protocol"), ("probe", "TCP-80", "numberOfProbes")},
        id="cluster-appProtocol-http-any-case",
    ),
    pytest.param(
        service_doc([port("https", 443, 31443, app="https")]),
        load_balancer([rule("TCP-443", 443, "TCP-443")], [probe("TCP-443", "Https", 31443, "/")]),
        "master",
        "v1.22",
        {("probe", "TCP-443", "protocol"), ("probe", "TCP-443", "numberOfProbes")},
        id="cluster-appProtocol-https-standard",
    ),
    pytest.param(
        service_doc([port("https", 443, 31443, app="https")]),
        load_balancer([rule("TCP-443", 443, "TCP-443", reset=False)], [probe("TCP-443", "Tcp", 31443)], sku="Basic"),
        "master",
        "v1.24.10",
        {("probe", "TCP-443", "numberOfProbes")},
        id="cluster-appProtocol-https-basic-sku-is-tcp",
    ),
    pytest.param(
        service_doc([port("grpc", 80, 31380, app="kubernetes.io/h2c")]),
        load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)]),
        "master",
        "v1.23.5",  # unknown appProtocol is an error on v1.23.4 – v1.23.8
        {("service", "shop/web", "spec.ports[grpc].appProtocol"), ("probe", "TCP-80", "numberOfProbes")},
        id="cluster-appProtocol-unknown-is-tcp",
    ),
    pytest.param(
        service_doc([HTTP], {ann.PROBE_PROTOCOL: "Http"}),
        load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Http", 31380, "/")]),
        "master",
        "v1.23.5",  # default path /healthz before v1.23.9
        {("probe", "TCP-80", "requestPath"), ("probe", "TCP-80", "numberOfProbes")},
        id="global-probe-protocol-http",
    ),
    pytest.param(
        service_doc([HTTPS], PORT_443_OVERRIDE),
        load_balancer([rule("TCP-443", 443, "TCP-443")], [probe("TCP-443", "Http", 10256, "/healthz")]),
        "master",
        "v1.24.10",  # per-port protocol and port arrived in v1.24.12
        {("probe", "TCP-443", f) for f in ("protocol", "port", "numberOfProbes")},
        id="per-port-probe-port-protocol-path",
    ),
    pytest.param(
        service_doc([HTTP, HTTPS], **LOCAL),
        load_balancer(
            [rule("TCP-80", 80, f"TCP-{H}"), rule("TCP-443", 443, f"TCP-{H}")],
            [probe(f"TCP-{H}", "Http", H, "/healthz")],
        ),
        "master",
        "v1.22",  # the Local probe was named after each rule
        {
            ("rule", "TCP-80", "probe.id"),
            ("rule", "TCP-443", "probe.id"),
            ("probe", "TCP-80", "presence"),
            ("probe", "TCP-443", "presence"),
            ("probe", f"TCP-{H}", "presence"),
        },
        id="local-one-probe-on-health-check-node-port",
    ),
    pytest.param(
        service_doc([HTTP, HTTPS], {ann.probe_key(443, "port"): "10256"}, **LOCAL),
        load_balancer(
            [rule("TCP-80", 80, f"TCP-{H}"), rule("TCP-443", 443, "TCP-443")],
            [probe(f"TCP-{H}", "Http", H, "/healthz"), probe("TCP-443", "Tcp", 10256)],
        ),
        "master",
        "v1.28.0",  # the per-port override of the Local probe arrived in v1.28.1
        {("rule", "TCP-443", "probe.id"), ("probe", "TCP-443", "presence")},
        id="local-per-port-probe-port-override",
    ),
    pytest.param(
        service_doc([HTTP], {ann.PLS_CREATE: "true", ann.PLS_PROXY_PROTOCOL: "true"}, **LOCAL),
        load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)]),
        "master",
        "v1.27.3",  # Cluster-style probes for PLS proxy protocol since v1.27.4
        {
            ("rule", "TCP-80", "probe.id"),
            ("probe", f"TCP-{H}", "presence"),
            ("probe", "TCP-80", "presence"),
        },
        id="local-pls-proxy-protocol-cluster-probes",
    ),
    pytest.param(
        service_doc([HTTP], {ann.port_key(80, "no_probe_rule"): "true"}, **LOCAL),
        load_balancer([rule("TCP-80", 80, None)], []),
        "master",
        "v1.24.10",  # no_probe_rule arrived in v1.24.12
        {("rule", "TCP-80", "probe.id"), ("probe", f"TCP-{H}", "presence")},
        id="local-no-probe-rule",
    ),
    pytest.param(
        service_doc([HTTP, DNS]),
        load_balancer(
            [rule("TCP-80", 80, SHARED), rule("UDP-53", 53, SHARED, protocol="Udp")],
            [probe(SHARED, "Http", 10356, "/healthz")],
        ),
        "master",
        "v1.28.4",  # shared probe mode arrived in v1.28.5
        {
            ("rule", "TCP-80", "probe.id"),
            ("rule", "UDP-53", "probe.id"),
            ("probe", "TCP-80", "presence"),
        },
        id="shared-mode-cluster-incl-udp",
    ),
    pytest.param(
        service_doc([DNS]),
        load_balancer([rule("UDP-53", 53, None, protocol="Udp")], []),
        "master",
        None,  # UDP Cluster rules have had no probe in every version
        set(),
        id="udp-cluster-servicenodeport-no-probe",
    ),
    pytest.param(
        service_doc([port("sctp", 5000, 30500, "SCTP")], internal=True),
        load_balancer([rule("SCTP-5000", 5000, None, protocol="All")], [], internal=True),
        "master",
        "v1.22",  # SCTP on an internal LB used to become an HA-ports rule
        {("rule", "SCTP-5000", "frontendPort"), ("rule", "SCTP-5000", "backendPort")},
        id="sctp-internal-cluster-no-probe",
    ),
    pytest.param(
        service_doc([DNS], **LOCAL),
        load_balancer([rule("UDP-53", 53, f"TCP-{H}", protocol="Udp")], [probe(f"TCP-{H}", "Http", H, "/healthz")]),
        "master",
        "v1.22",
        {("rule", "UDP-53", "probe.id"), ("probe", "UDP-53", "presence"), ("probe", f"TCP-{H}", "presence")},
        id="udp-local-gets-the-local-probe",
    ),
]


@pytest.mark.parametrize(("service", "lb", "written_by", "other", "differs"), CASES_6_2)
def test_cases_table(service, lb, written_by, other, differs) -> None:
    assert run(service, lb, written_by).differences == ()
    if other is None:
        assert run(service, lb, "v1.22").differences == ()
        assert run(service, lb, "v1.24.10").differences == ()
    else:
        assert fields(run(service, lb, other)) == differs


# ---------------------------------------------------------------------------------------------
# §6.7 — every version row of the history table

APP_HTTP = [port("http", 80, 31380, app="http")]
VERSIONS_6_7 = [
    pytest.param(
        service_doc(APP_HTTP),
        load_balancer([rule("TCP-80", 80, "TCP-80")], [old_probe("TCP-80", "Tcp", 31380)]),
        "v1.23.3",
        "master",
        {("probe", "TCP-80", "protocol"), ("probe", "TCP-80", "requestPath"), ("probe", "TCP-80", "probeThreshold")},
        id="le-v1.23.3-appProtocol-ignored",
    ),
    pytest.param(
        service_doc(APP_HTTP),
        load_balancer([rule("TCP-80", 80, "TCP-80")], [old_probe("TCP-80", "Http", 31380, "/healthz")]),
        "v1.23.5",
        "v1.23.9",
        {("probe", "TCP-80", "requestPath")},
        id="v1.23.4-appProtocol-honoured-path-healthz",
    ),
    pytest.param(
        service_doc(APP_HTTP),
        load_balancer([rule("TCP-80", 80, "TCP-80")], [old_probe("TCP-80", "Http", 31380, "/")]),
        "v1.24.10",
        "v1.23.11",
        {("probe", "TCP-80", "protocol")},
        id="v1.23.9-and-v1.24-path-slash",
    ),
    pytest.param(
        service_doc(APP_HTTP),
        load_balancer([rule("TCP-80", 80, "TCP-80")], [old_probe("TCP-80", "Tcp", 31380)]),
        "v1.23.11",
        "v1.24.10",
        {("probe", "TCP-80", "protocol"), ("probe", "TCP-80", "requestPath")},
        id="v1.23.11-guard-tcp-without-request-path",
    ),
    pytest.param(
        service_doc([HTTP], {ann.probe_key(80, "protocol"): "http"}),
        load_balancer([rule("TCP-80", 80, "TCP-80")], [old_probe("TCP-80", "Http", 31380, "/")]),
        "v1.24.12",
        "v1.24.11",
        {("probe", "TCP-80", "protocol")},
        id="v1.24.12-per-port-protocol",
    ),
    pytest.param(
        service_doc([HTTP]),
        load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)]),
        "v1.24.18",
        "v1.24.17",
        {("probe", "TCP-80", "numberOfProbes")},
        id="v1.24.18-probeThreshold",
    ),
    pytest.param(
        service_doc([HTTP], {ann.PLS_CREATE: "true", ann.PLS_PROXY_PROTOCOL: "true"}, **LOCAL),
        load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)]),
        "v1.24.20",
        "v1.24.19",
        {("rule", "TCP-80", "probe.id"), ("probe", f"TCP-{H}", "presence"), ("probe", "TCP-80", "presence")},
        id="v1.24.20-local-pls-proxy-protocol",
    ),
    pytest.param(
        service_doc([HTTP], {ann.PROBE_INTERVAL: "10"}, **LOCAL),
        load_balancer([rule("TCP-80", 80, f"TCP-{H}")], [probe(f"TCP-{H}", "Http", H, "/healthz", interval=10)]),
        "v1.25.16",
        "v1.25.15",
        {("probe", f"TCP-{H}", "intervalInSeconds")},
        id="v1.25.16-local-probe-honours-interval",
    ),
    pytest.param(
        service_doc([HTTP], {ann.IDLE_TIMEOUT: "60"}),
        load_balancer([rule("TCP-80", 80, "TCP-80", idle=60)], [probe("TCP-80", "Tcp", 31380)]),
        "v1.25.17",
        "v1.25.16",  # max 30: the reconcile fails, the LB keeps 60
        {("service", "shop/web", ann.IDLE_TIMEOUT)},
        id="v1.25.17-idle-timeout-up-to-100",
    ),
    pytest.param(
        service_doc([HTTP], {ann.probe_key(80, "port"): "10256"}),
        load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 10256)]),
        "v1.25.17",
        "v1.25.16",  # a literal probe port had to name a service port
        {("service", "shop/web", ann.probe_key(80, "port"))},
        id="v1.25.17-literal-probe-port",
    ),
    pytest.param(
        service_doc([HTTP, HTTPS], {ann.probe_key(443, "port"): "10256"}, **LOCAL),
        load_balancer(
            [rule("TCP-80", 80, f"TCP-{H}"), rule("TCP-443", 443, "TCP-443")],
            [probe(f"TCP-{H}", "Http", H, "/healthz"), probe("TCP-443", "Tcp", 10256)],
        ),
        "v1.25.19",
        "v1.25.18",
        {("rule", "TCP-443", "probe.id"), ("probe", "TCP-443", "presence")},
        id="v1.25.19-per-port-override-of-local-probe",
    ),
    pytest.param(
        service_doc([HTTP]),
        load_balancer([rule("TCP-80", 80, SHARED)], [probe(SHARED, "Http", 10256, "/healthz")]),
        "v1.28.5",
        "v1.28.4",
        {("rule", "TCP-80", "probe.id"), ("probe", "TCP-80", "presence")},
        id="v1.28.5-shared-probe-mode",
    ),
    pytest.param(
        service_doc([HTTP]),
        load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)]),
        "v1.29.0",
        "v1.28.5",  # the new NSG rule scheme changes nothing on the LB
        set(),
        id="v1.29.0-nsg-scheme-not-an-lb-change",
    ),
    pytest.param(
        service_doc([HTTP], **LOCAL),
        load_balancer(
            [rule("TCP-80", 80, f"TCP-{H}")],
            [probe(f"TCP-{H}", "Http", H, "/healthz"), probe(SHARED, "Http", 10256, "/healthz")],
        ),
        "v1.33.0",
        "v1.32.4",  # the LB-wide shared probe is other Services' business: never this Service's leftover
        set(),
        id="v1.33.0-shared-probe-kept-for-others",
    ),
]


@pytest.mark.parametrize(("service", "lb", "written_by", "other", "differs"), VERSIONS_6_7)
def test_version_history(service, lb, written_by, other, differs) -> None:
    assert run(service, lb, written_by).differences == ()
    assert fields(run(service, lb, other)) == differs


def test_threshold_field_follows_the_version() -> None:
    svc = service_doc([HTTP])
    old = load_balancer([rule("TCP-80", 80, "TCP-80")], [old_probe("TCP-80", "Tcp", 31380)])
    d = only(run(svc, old, "master"))
    assert (d.field, d.expected, d.actual) == ("probeThreshold", 2, None)
    assert "single probe result" in d.message
    d = only(run(svc, load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)]), "v1.24.10"))
    assert (d.field, d.expected, d.actual) == ("numberOfProbes", 2, None)


def test_provider_rules_follow_the_cluster_version_unless_overridden() -> None:
    svc = service_doc(APP_HTTP)
    lb = load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Http", 31380, "/")])
    # AKS 1.24 runs the newest v1.24 provider: Http on / with probeThreshold.
    d = run(svc, lb, server="v1.24.9")
    assert d.differences == () and d.provider == "cloud-provider-azure v1.24 (latest patch)"
    # The newest 1.23 provider keeps Tcp without a request path and writes numberOfProbes.
    assert fields(run(svc, lb, server="v1.23.15")) == {
        ("probe", "TCP-80", "protocol"),
        ("probe", "TCP-80", "numberOfProbes"),
    }
    d = run(svc, lb, "v1.24.20", server="v1.23.15")
    assert d.differences == () and d.provider == "cloud-provider-azure v1.24.20"


# ---------------------------------------------------------------------------------------------
# Kubernetes rows of §6.7: which nodes the pool should hold


def test_cordoned_nodes_left_pools_before_kubernetes_1_19() -> None:
    nodes = [node_doc(0), node_doc(1, unschedulable=True), node_doc(2)]
    # Kubernetes ≤ 1.22 is assumed to run the newest 1.23 provider, which writes numberOfProbes.
    probes = [old_probe("TCP-80", "Tcp", 31380)]
    lb = load_balancer([rule("TCP-80", 80, "TCP-80")], probes, members=[0, 2], ip_pool=True)
    assert run(service_doc([HTTP]), lb, server="v1.18.20", nodes=nodes).differences == ()
    d = only(run(service_doc([HTTP]), lb, server="v1.19.16", nodes=nodes))
    assert (d.kind, d.name, d.field, d.expected, d.actual) == (
        "backend-pool",
        "kubernetes",
        "loadBalancerBackendAddresses",
        NODES[1],
        None,
    )


def test_readiness_stopped_being_a_pool_predicate_in_kubernetes_1_27() -> None:
    nodes = [node_doc(0), node_doc(1, ready=False), node_doc(2)]
    lb = load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)], members=[0, 2], ip_pool=True)
    assert run(service_doc([HTTP]), lb, server="v1.26.10", nodes=nodes).differences == ()
    assert fields(run(service_doc([HTTP]), lb, server="v1.29.4", nodes=nodes)) == {
        ("backend-pool", "kubernetes", "loadBalancerBackendAddresses")
    }


# ---------------------------------------------------------------------------------------------
# Rules: the §5.3 field set


def tcp_lb(**rule_fields: Any) -> dict[str, Any]:
    return load_balancer([rule("TCP-80", 80, "TCP-80", **rule_fields)], [probe("TCP-80", "Tcp", 31380)])


def test_rule_fields_the_provider_compares() -> None:
    svc = service_doc([HTTP])
    d = only(run(svc, tcp_lb(backend=31380)))
    assert (d.kind, d.name, d.field, d.expected, d.actual) == ("rule", f"{P}-TCP-80", "backendPort", 80, 31380)
    assert fields(run(svc, tcp_lb(floating=False))) == {("rule", "TCP-80", "enableFloatingIP")}
    assert fields(run(svc, tcp_lb(reset=False))) == {("rule", "TCP-80", "enableTcpReset")}
    assert fields(run(svc, tcp_lb(idle=30))) == {("rule", "TCP-80", "idleTimeoutInMinutes")}
    assert fields(run(svc, tcp_lb(distribution="SourceIP"))) == {("rule", "TCP-80", "loadDistribution")}
    assert fields(run(svc, tcp_lb(pool="other"))) == {("rule", "TCP-80", "backendAddressPool.id")}
    # The provider rewrites the whole rule: the TCP reset it writes on Tcp rules comes back too.
    assert fields(run(svc, tcp_lb(protocol="Udp"))) == {
        ("rule", "TCP-80", "protocol"),
        ("rule", "TCP-80", "enableTcpReset"),
    }
    d = only(run(svc, tcp_lb(frontend="someone-else")))
    assert (d.field, d.expected, d.actual) == ("frontendIPConfiguration.id", P, "someone-else")


def test_idle_timeout_only_when_both_sides_have_one() -> None:
    assert run(service_doc([HTTP]), tcp_lb(idle=None)).differences == ()
    assert run(service_doc([HTTP], {ann.IDLE_TIMEOUT: "15"}), tcp_lb(idle=None)).differences == ()
    d = only(run(service_doc([HTTP], {ann.IDLE_TIMEOUT: "15"}), tcp_lb()))
    assert (d.field, d.expected, d.actual) == ("idleTimeoutInMinutes", 15, 4)


def test_tcp_reset_is_compared_on_tcp_rules_only() -> None:
    lb = load_balancer([rule("UDP-53", 53, None, protocol="Udp", reset=True)], [])
    assert run(service_doc([DNS]), lb).differences == ()


def test_floating_ip_disabled_sends_to_the_node_port() -> None:
    svc = service_doc([HTTP], {ann.DISABLE_FLOATING_IP: "TRUE"})
    assert run(svc, tcp_lb(backend=31380, floating=False)).differences == ()
    assert fields(run(svc, tcp_lb())) == {("rule", "TCP-80", "backendPort"), ("rule", "TCP-80", "enableFloatingIP")}


def test_session_affinity_means_source_ip() -> None:
    svc = service_doc([HTTP], sessionAffinity="ClientIP")
    assert run(svc, tcp_lb(distribution="SourceIP")).differences == ()
    d = only(run(svc, tcp_lb()))
    assert (d.field, d.expected, d.actual) == ("loadDistribution", "SourceIP", "Default")
    assert "pinned to one node" in d.message


def test_disable_outbound_snat_is_read_from_the_lb() -> None:
    svc = service_doc([HTTP, HTTPS])
    probes = [probe("TCP-80", "Tcp", 31380), probe("TCP-443", "Tcp", 31443)]
    same = load_balancer([rule("TCP-80", 80, "TCP-80", snat=True), rule("TCP-443", 443, "TCP-443", snat=True)], probes)
    assert run(svc, same).differences == ()
    lb = load_balancer([rule("TCP-80", 80, "TCP-80", snat=True), rule("TCP-443", 443, "TCP-443", snat=True)], probes)
    lb["properties"]["loadBalancingRules"].append(
        {**lb["properties"]["loadBalancingRules"][0], "name": "other-TCP-8080", "id": lb["id"] + "/x/other"}
    )
    lb["properties"]["loadBalancingRules"][1]["properties"]["disableOutboundSnat"] = False
    d = only(run(svc, lb))
    assert (d.name, d.field, d.expected, d.actual) == (f"{P}-TCP-443", "disableOutboundSnat", True, False)


def test_ha_ports_one_all_rule() -> None:
    svc = service_doc([HTTP, HTTPS], {ann.HA_PORTS: "true"}, internal=True)
    lb = load_balancer(
        [rule("TCP-80", 0, "TCP-80", protocol="All", reset=True)], [probe("TCP-80", "Tcp", 31380)], internal=True
    )
    assert run(svc, lb).differences == ()
    legacy = load_balancer(
        [rule("TCP-80", 80, "TCP-80"), rule("TCP-443", 443, "TCP-443")],
        [probe("TCP-80", "Tcp", 31380), probe("TCP-443", "Tcp", 31443)],
        internal=True,
    )
    assert fields(run(svc, legacy)) == {
        ("rule", "TCP-80", "protocol"),
        ("rule", "TCP-80", "frontendPort"),
        ("rule", "TCP-80", "backendPort"),
        ("rule", "TCP-443", "presence"),
        ("probe", "TCP-443", "presence"),
    }


def test_no_lb_rule_means_no_rule_and_no_probe() -> None:
    svc = service_doc([HTTP, HTTPS], {ann.port_key(443, "no_lb_rule"): "true"})
    lb = load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)])
    assert run(svc, lb).differences == ()
    both = load_balancer(
        [rule("TCP-80", 80, "TCP-80"), rule("TCP-443", 443, "TCP-443")],
        [probe("TCP-80", "Tcp", 31380), probe("TCP-443", "Tcp", 31443)],
    )
    assert {(x.name.replace(f"{P}-", ""), x.field, x.expected, x.actual) for x in run(svc, both).differences} == {
        ("TCP-443", "presence", False, True)
    }


# ---------------------------------------------------------------------------------------------
# Probes: the findProbe field set and what each difference means


def test_stale_local_probe_port() -> None:
    svc = service_doc([HTTP], **LOCAL, healthCheckNodePort=32649)
    lb = load_balancer([rule("TCP-80", 80, "TCP-32649")], [probe("TCP-32649", "Http", 31999, "/healthz")])
    d = only(run(svc, lb))
    assert (d.kind, d.name, d.field, d.expected, d.actual) == ("probe", f"{P}-TCP-32649", "port", 32649, 31999)
    assert d.message == "probe on 31999 but healthCheckNodePort is 32649: every node looks down"


def test_request_path_is_compared_case_insensitively() -> None:
    svc = service_doc(APP_HTTP, {ann.PROBE_REQUEST_PATH: "/Healthz"})
    lb = load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Http", 31380, "/healthz")])
    assert run(svc, lb).differences == ()
    lb = load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Http", 31380, "/")])
    d = only(run(svc, lb))
    assert (d.field, d.expected, d.actual) == ("requestPath", "/Healthz", "/")


def test_local_probe_a_bare_tcp_handshake() -> None:
    svc = service_doc([HTTP], **LOCAL)
    lb = load_balancer([rule("TCP-80", 80, f"TCP-{H}")], [probe(f"TCP-{H}", "Tcp", H)])
    protocol, path = run(svc, lb).differences
    assert (protocol.field, protocol.expected, protocol.actual) == ("protocol", "Http", "Tcp")
    assert "bare TCP handshake counts as up" in protocol.message
    assert (path.field, path.expected, path.actual) == ("requestPath", "/healthz", None)


def test_interval_and_threshold_annotations() -> None:
    svc = service_doc([HTTP], {ann.PROBE_INTERVAL: "10", ann.PROBE_NUM_OF_PROBE: "3"})
    lb = load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380, interval=10, threshold=3)])
    assert run(svc, lb).differences == ()
    lb = load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)])
    assert {(x.field, x.expected, x.actual) for x in run(svc, lb).differences} == {
        ("intervalInSeconds", 10, 5),
        ("probeThreshold", 3, 2),
    }


def test_explain_probe_mismatch_uses_the_same_comparison() -> None:
    svc = service_doc([HTTP])
    lb = load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Http", 31000, "/x")])
    raw = RawDocuments(service=svc, nodes=(node_doc(0),), load_balancers=(lb,), public_ips=(pip_doc(),))
    analysis = analyse(case_from_raw(raw, subscription=SUB, resource_group=RG))
    want = analysis.expectation.rules[0].probe
    have = analysis.match.rules[0].probe
    shared = compare_probe(want, have, PROBE_TARGET_FIELDS)
    assert [(d.field, d.expected, d.actual) for d in shared] == [("protocol", "Tcp", "Http"), ("port", 31380, 31000)]
    mismatch = next(f for f in diagnose(analysis, None).findings if f.code == "probe-mismatch")
    assert mismatch.message.endswith(": protocol Http ≠ Tcp, port 31000 ≠ 31380")
    assert [(d.field, d.expected, d.actual) for d in diff(analysis).differences] == [
        ("protocol", "Tcp", "Http"),
        ("port", 31380, 31000),
    ]


# ---------------------------------------------------------------------------------------------
# Leftovers and missing objects


def test_missing_and_stale_rules_and_probes() -> None:
    svc = service_doc([HTTP, HTTPS])
    lb = load_balancer(
        [rule("TCP-80", 80, "TCP-80"), rule("TCP-8080", 8080, "TCP-8080")],
        [probe("TCP-80", "Tcp", 31380), probe("TCP-8080", "Tcp", 30808), probe("TCP-9090", "Tcp", 30909)],
    )
    got = {(x.kind, x.name.replace(f"{P}-", ""), x.field, x.expected, x.actual) for x in run(svc, lb).differences}
    assert got == {
        ("rule", "TCP-443", "presence", True, False),
        ("probe", "TCP-443", "presence", True, False),
        ("rule", "TCP-8080", "presence", False, True),
        ("probe", "TCP-8080", "presence", False, True),
        ("probe", "TCP-9090", "presence", False, True),
    }
    messages = {x.name.replace(f"{P}-", ""): x.message for x in run(svc, lb).differences if x.kind == "rule"}
    assert "clients of 20.31.40.10:443 get no answer" in messages["TCP-443"]
    assert "clients of 20.31.40.10:8080 still reach the nodes" in messages["TCP-8080"]


def test_other_services_objects_are_not_leftovers() -> None:
    lb = tcp_lb()
    other = "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6"
    lb["properties"]["probes"].append(
        {
            "name": f"{other}-TCP-81",
            "id": lb["id"] + f"/probes/{other}-TCP-81",
            "properties": {"protocol": "Tcp", "port": 30001},
        }
    )
    assert run(service_doc([HTTP]), lb).differences == ()


def test_no_load_balancer_everything_missing() -> None:
    lb = load_balancer([], [], frontends=())
    lb["name"] = "kubernetes"
    d = run(service_doc([HTTP]), lb)
    assert d.load_balancer is None
    assert fields(d) == {
        ("frontend", P, "presence"),
        ("rule", "TCP-80", "presence"),
        ("probe", "TCP-80", "presence"),
    }


# ---------------------------------------------------------------------------------------------
# Frontends


def test_public_frontend_ip_must_be_the_ingress_ip() -> None:
    d = only(run(service_doc([HTTP]), tcp_lb(), pip=pip_doc("20.31.40.99")))
    assert (d.kind, d.name, d.field, d.expected, d.actual) == (
        "frontend",
        P,
        "publicIPAddress.ipAddress",
        PUBLIC_IP,
        "20.31.40.99",
    )


def test_internal_frontend_private_ip() -> None:
    svc = service_doc([HTTP], internal=True)
    lb = load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)], internal=True)
    assert run(svc, lb).differences == ()
    lb = load_balancer(
        [rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)], internal=True, frontend_ip="10.224.0.77"
    )
    d = only(run(svc, lb))
    assert (d.field, d.expected, d.actual) == ("privateIPAddress", PRIVATE_IP, "10.224.0.77")


def test_missing_frontend_and_stale_ipv6_frontend() -> None:
    lb = tcp_lb()
    lb["properties"]["frontendIPConfigurations"].append(
        {"name": f"{P}-IPv6", "id": lb["id"] + f"/frontendIPConfigurations/{P}-IPv6", "properties": {}}
    )
    d = only(run(service_doc([HTTP]), lb))
    assert (d.kind, d.name, d.field, d.expected, d.actual) == ("frontend", f"{P}-IPv6", "presence", False, True)


# ---------------------------------------------------------------------------------------------
# Backend pool membership


def test_node_missing_from_a_nic_pool() -> None:
    lb = load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)], members=[0, 1])
    d = only(run(service_doc([HTTP]), lb))
    assert (d.kind, d.name, d.field, d.expected, d.actual) == (
        "backend-pool",
        "kubernetes",
        "backendIPConfigurations",
        NODES[2],
        None,
    )
    assert "neither probes it nor sends it traffic" in d.message


def test_either_states_are_not_drift() -> None:
    # Autoscaler taint and deletion: the service controller drops them, a NIC pool keeps them.
    nodes = [node_doc(0), node_doc(1, taints=[{"key": "ToBeDeletedByClusterAutoscaler", "effect": "NoSchedule"}])]
    nodes.append(node_doc(2, labels={"node-role.kubernetes.io/control-plane": ""}))
    for members in ([0, 1, 2], [0]):
        lb = load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)], members=members)
        assert run(service_doc([HTTP]), lb, nodes=nodes).differences == ()


def test_excluded_nodes_in_the_pool() -> None:
    exclude = "node.kubernetes.io/exclude-from-external-load-balancers"
    nodes = [
        node_doc(0),
        node_doc(1, labels={exclude: "false"}),
        node_doc(2, labels={"kubernetes.azure.com/managed": "false"}),
    ]
    lb = load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)])
    got = {(x.field, x.expected, x.actual) for x in run(service_doc([HTTP]), lb, nodes=nodes).differences}
    assert got == {("backendIPConfigurations", None, NODES[1]), ("backendIPConfigurations", None, NODES[2])}
    # A NIC pool keeps excluded nodes when removing them would empty it.
    lb = load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31380)], members=[1, 2])
    nodes[0] = node_doc(0, labels={exclude: "true"})
    assert run(service_doc([HTTP]), lb, nodes=nodes).differences == ()


def test_ip_pool_removes_autoscaler_tainted_nodes_and_strangers() -> None:
    nodes = [node_doc(0), node_doc(1), node_doc(2, taints=[{"key": "ToBeDeletedByClusterAutoscaler"}])]
    lb = load_balancer(
        [rule("TCP-80", 80, "TCP-80")],
        [probe("TCP-80", "Tcp", 31380)],
        ip_pool=True,
        extra_addresses=("10.224.0.99",),
    )
    got = {(x.field, x.expected, x.actual) for x in run(service_doc([HTTP]), lb, nodes=nodes).differences}
    assert got == {
        ("loadBalancerBackendAddresses", None, NODES[2]),
        ("loadBalancerBackendAddresses", None, "10.224.0.99"),
    }


# ---------------------------------------------------------------------------------------------
# Invalid annotations: one difference with the provider's text, the rest still compared


@pytest.mark.parametrize(
    ("annotations", "key", "text"),
    [
        ({ann.PROBE_INTERVAL: "3"}, ann.PROBE_INTERVAL, "the minimum value of interval is 5"),
        ({ann.PROBE_NUM_OF_PROBE: "1"}, ann.PROBE_NUM_OF_PROBE, "the minimum value of num-of-probe is 2"),
        (
            {ann.PROBE_INTERVAL: "60", ann.PROBE_NUM_OF_PROBE: "2"},
            ann.PROBE_INTERVAL,
            "total probe should be less than 120, please adjust interval and number of probe accordingly",
        ),
        ({ann.probe_key(80, "port"): "metrics"}, ann.probe_key(80, "port"), "port metrics not found in service"),
    ],
)
def test_invalid_annotation_is_one_difference(annotations, key, text) -> None:
    d = run(service_doc([HTTP], annotations), tcp_lb())
    x = only(d)
    assert (x.kind, x.name, x.field, x.expected, x.actual) == ("service", "shop/web", key, None, annotations[key])
    assert text in x.message and "keeps what it last wrote" in x.message
    assert d.reconcile_failing


def test_invalid_annotation_blocks_but_does_not_hide_other_drift() -> None:
    svc = service_doc([HTTP], {ann.PROBE_INTERVAL: "3"})
    lb = load_balancer([rule("TCP-80", 80, "TCP-80")], [probe("TCP-80", "Tcp", 31000, interval=10)])
    d = run(svc, lb)
    assert {(x.kind, x.field) for x in d.differences} == {("service", ann.PROBE_INTERVAL), ("probe", "port")}
    port_diff = next(x for x in d.differences if x.field == "port")
    assert "blocked" in port_diff.message
    assert any("intervalInSeconds" in n and "not compared" in n for n in d.notes)


# ---------------------------------------------------------------------------------------------
# Dual stack: one frontend, rule, probe and pool per family


def dual_stack_case(*, v6_members: list[int]) -> tuple[dict[str, Any], dict[str, Any], list, list]:
    svc = service_doc([HTTP], ipFamilies=["IPv4", "IPv6"], ipFamilyPolicy="RequireDualStack")
    svc["status"]["loadBalancer"]["ingress"].append({"ip": "2603:1020:1:2::10"})
    lb = load_balancer(
        [
            rule("TCP-80", 80, "TCP-80"),
            rule("TCP-80-IPv6", 80, "TCP-80-IPv6", pool="kubernetes-IPv6", frontend=f"{P}-IPv6"),
        ],
        [probe("TCP-80", "Tcp", 31380), probe("TCP-80-IPv6", "Tcp", 31380)],
        frontends=(P, f"{P}-IPv6"),
    )
    this = lb["id"]
    lb["properties"]["backendAddressPools"].append(
        {
            "name": "kubernetes-IPv6",
            "id": f"{this}/backendAddressPools/kubernetes-IPv6",
            "properties": {
                "backendIPConfigurations": [{"id": ipconfig(i).replace("ipconfig1", "ipconfig-v6")} for i in v6_members]
            },
        }
    )
    nodes = [node_doc(i) for i in range(3)]
    for i, n in enumerate(nodes):
        n["status"]["addresses"].append({"type": "InternalIP", "address": f"fd00::{4 + i}"})
    pips = [
        pip_doc(),
        {
            **pip_doc("2603:1020:1:2::10"),
            "name": f"kubernetes-{P}-IPv6",
            "id": f"{NET}/publicIPAddresses/kubernetes-{P}-IPv6",
        },
    ]
    return svc, lb, nodes, pips


def run_with_pips(svc, lb, nodes, pips) -> LoadBalancerDiff:
    raw = RawDocuments(
        service=svc, nodes=tuple(nodes), load_balancers=(lb,), public_ips=tuple(pips), version={"gitVersion": "v1.29.4"}
    )
    return diff(analyse(case_from_raw(raw, subscription=SUB, resource_group=RG)))


def test_dual_stack_is_compared_per_family() -> None:
    assert run_with_pips(*dual_stack_case(v6_members=[0, 1, 2])).differences == ()
    d = only(run_with_pips(*dual_stack_case(v6_members=[0, 1])))
    assert (d.kind, d.name, d.field, d.expected, d.actual) == (
        "backend-pool",
        "kubernetes-IPv6",
        "backendIPConfigurations",
        NODES[2],
        None,
    )
    svc, lb, nodes, pips = dual_stack_case(v6_members=[0, 1, 2])
    pips[1]["properties"]["ipAddress"] = "2603:1020:1:2::99"
    d = only(run_with_pips(svc, lb, nodes, pips))
    assert (d.name, d.field, d.expected, d.actual) == (
        f"{P}-IPv6",
        "publicIPAddress.ipAddress",
        "2603:1020:1:2::10",
        "2603:1020:1:2::99",
    )
