"""The floor of an ``explain``: the least any tool must do to diagnose the Service, in one process.

1. a parallel raw fetch of what ``explain`` reads — the Service, the Nodes (paged as akslbctl pages
   them), its EndpointSlices, the resource group's load balancers and public IPs — with the standard
   library only (``http.client`` in threads, ``json``), against the same lab servers;
2. a bare asyncio round against the same listeners: one HTTP GET (Local policy: the
   healthCheckNodePort's ``/healthz``) or one TCP handshake (Cluster policy: the nodePort) per node,
   all at once, with the same per-probe timeout.

Run as its own process (``python benchmarks/floor.py``) with the lab's environment plus
``FLOOR_SUBSCRIPTION`` and ``FLOOR_RESOURCE_GROUP``; prints one JSON line: the seconds of each part
(measured inside the process) and what it saw, so that a benchmark can check it did the same work.
Its wall time, measured from outside, includes the interpreter's start, as an ``explain`` run's does.

``python benchmarks/floor.py --all`` reads everything ``explain`` reads, request for request, in the
same order of dependence: besides the five lists, the server's /version, the Service's pods (its
selector) and Events, the namespace's NetworkPolicies (and CiliumNetworkPolicies, a 404 on AKS
without Cilium), the resource group's Private Link services, the NICs of the nodes' scale sets, the
virtual networks and NSGs in front of them, and ARM's rule health of each of the Service's rules
(the POST and its poll). The five-list floor is issue 14's; this one is what a diagnosis that uses
all of that evidence cannot do without.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import ssl
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlsplit

API_VERSION = "2024-05-01"
NETWORK_API_VERSION = "2026-03-01"  # what explain sends (akslbctl.sources.arm)
VMSS_NIC_API_VERSION = "2018-10-01"
TIMEOUT = 5.0
# The Service's EndpointSlices: (path, query) as explain lists them.
SLICES = (
    "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
    "labelSelector=" + quote("kubernetes.io/service-name=web"),
)


def kubeconfig() -> tuple[str, str, str | None]:
    """(server, token, CA file) of the current context; the lab writes a flat, simple kubeconfig."""
    import yaml  # the lab's kubeconfig is YAML; parsing it is part of any client's start

    with open(os.environ["KUBECONFIG"]) as f:
        doc = yaml.safe_load(f)
    ctx = next(c["context"] for c in doc["contexts"] if c["name"] == doc["current-context"])
    cluster = next(c["cluster"] for c in doc["clusters"] if c["name"] == ctx["cluster"])
    user = next(u["user"] for u in doc["users"] if u["name"] == ctx["user"])
    return cluster["server"], user["token"], cluster.get("certificate-authority")


def connection(url: str, ca: str | None) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    if parts.scheme == "https":
        ctx = ssl.create_default_context(cafile=ca)
        return http.client.HTTPSConnection(parts.hostname, parts.port, context=ctx, timeout=30)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def get_json(conn: http.client.HTTPConnection, path: str, token: str, ok=(200,), method: str = "GET") -> dict:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    conn.request(method, path, body=b"" if method == "POST" else None, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    if resp.status not in ok:
        raise SystemExit(f"{method} {path}: {resp.status} {body[:200]!r}")
    if resp.status == 202:
        return {"location": resp.getheader("Location") or ""}
    return json.loads(body) if body.strip() and resp.status < 300 else {}


def kube_list(server: str, ca: str | None, token: str, path: str, query: str = "") -> list[dict]:
    conn = connection(server, ca)
    items: list[dict] = []
    cont = ""
    while True:
        q = f"{query}&" if query else ""
        doc = get_json(conn, f"{path}?{q}limit=500" + (f"&continue={quote(cont)}" if cont else ""), token)
        items.extend(doc["items"])
        cont = (doc.get("metadata") or {}).get("continue") or ""
        if not cont:
            conn.close()
            return items


def arm_list(endpoint: str, token: str, path: str, version: str = API_VERSION) -> list[dict]:
    conn = connection(endpoint, None)
    items: list[dict] = []
    url = f"{path}?api-version={version}"
    while url:
        doc = get_json(conn, url, token)
        items.extend(doc.get("value") or [])
        link = doc.get("nextLink")
        url = (urlsplit(link).path + "?" + urlsplit(link).query) if link else ""
    conn.close()
    return items


def fetch(everything: bool = False) -> dict:
    if everything:
        return fetch_everything()
    server, token, ca = kubeconfig()
    arm, arm_token = os.environ["AKSLBCTL_ARM_ENDPOINT"], os.environ["AKSLBCTL_ARM_TOKEN"]
    sub, rg = os.environ["FLOOR_SUBSCRIPTION"], os.environ["FLOOR_RESOURCE_GROUP"]
    net = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network"

    def service() -> dict:
        conn = connection(server, ca)
        return get_json(conn, "/api/v1/namespaces/default/services/web", token)

    with ThreadPoolExecutor(8) as pool:
        svc = pool.submit(service)
        nodes = pool.submit(kube_list, server, ca, token, "/api/v1/nodes")
        slices = pool.submit(kube_list, server, ca, token, *SLICES)
        lbs = pool.submit(arm_list, arm, arm_token, f"{net}/loadBalancers")
        pips = pool.submit(arm_list, arm, arm_token, f"{net}/publicIPAddresses")
        return {
            "service": svc.result(),
            "nodes": nodes.result(),
            "slices": slices.result(),
            "lbs": lbs.result(),
            "pips": pips.result(),
        }


def fetch_everything() -> dict:
    """What explain reads, each request once, every one as soon as what it depends on is in."""
    server, token, ca = kubeconfig()
    arm, arm_token = os.environ["AKSLBCTL_ARM_ENDPOINT"], os.environ["AKSLBCTL_ARM_TOKEN"]
    sub, rg = os.environ["FLOOR_SUBSCRIPTION"], os.environ["FLOOR_RESOURCE_GROUP"]
    net = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network"
    ns = "/api/v1/namespaces/default"

    def kube_get(path: str, ok=(200,)) -> dict:
        return get_json(connection(server, ca), path, token, ok=ok)

    def arm_get(path: str, version: str = NETWORK_API_VERSION) -> dict:
        return get_json(connection(arm, None), f"{path}?api-version={version}", arm_token)

    def rule_health(lb: str, rule: str) -> dict:
        conn = connection(arm, None)
        path = f"{net}/loadBalancers/{lb}/loadBalancingRules/{rule}/health?api-version={NETWORK_API_VERSION}"
        doc = get_json(conn, path, arm_token, ok=(200, 202), method="POST")
        while "location" in doc:
            link = urlsplit(doc["location"])
            doc = get_json(conn, f"{link.path}?{link.query}", arm_token, ok=(200, 202))
        return doc

    with ThreadPoolExecutor(16) as pool:
        svc_f = pool.submit(kube_get, f"{ns}/services/web")
        nodes_f = pool.submit(kube_list, server, ca, token, "/api/v1/nodes")
        lbs_f = pool.submit(arm_list, arm, arm_token, f"{net}/loadBalancers", NETWORK_API_VERSION)
        pips_f = pool.submit(arm_list, arm, arm_token, f"{net}/publicIPAddresses", NETWORK_API_VERSION)
        pls_f = pool.submit(arm_list, arm, arm_token, f"{net}/privateLinkServices", NETWORK_API_VERSION)
        others = [
            pool.submit(kube_get, "/version"),
            pool.submit(kube_list, server, ca, token, "/apis/networking.k8s.io/v1/namespaces/default/networkpolicies"),
            pool.submit(kube_get, "/apis/cilium.io/v2/namespaces/default/ciliumnetworkpolicies?limit=500", (200, 404)),
        ]
        svc = svc_f.result()
        uid, selector = svc["metadata"]["uid"], svc["spec"].get("selector") or {}
        slices_f = pool.submit(kube_list, server, ca, token, *SLICES)
        pods_f = pool.submit(
            kube_list,
            server,
            ca,
            token,
            f"{ns}/pods",
            "labelSelector=" + quote(",".join(f"{k}={v}" for k, v in selector.items())),
        )
        others.append(
            pool.submit(
                kube_list,
                server,
                ca,
                token,
                f"{ns}/events",
                "fieldSelector="
                + quote(f"involvedObject.kind=Service,involvedObject.name=web,involvedObject.uid={uid}"),
            )
        )
        lbs = lbs_f.result()
        prefix = "a" + uid.replace("-", "")[:31]
        health_f = [
            pool.submit(rule_health, lb["name"], rule["name"])
            for lb in lbs
            for rule in (lb.get("properties") or {}).get("loadBalancingRules") or []
            if rule["name"].lower().startswith(prefix.lower()) and (rule.get("properties") or {}).get("probe")
        ]
        nodes = nodes_f.result()
        scale_sets = sorted(
            {
                n["spec"]["providerID"].split("/virtualMachineScaleSets/")[1].split("/")[0]
                for n in nodes
                if "/virtualMachineScaleSets/" in (n.get("spec") or {}).get("providerID", "")
            }
        )
        compute = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute"
        nic_f = [
            pool.submit(
                arm_list,
                arm,
                arm_token,
                f"{compute}/virtualMachineScaleSets/{v}/networkInterfaces",
                VMSS_NIC_API_VERSION,
            )
            for v in scale_sets
        ]
        nics = [nic for f in nic_f for nic in f.result()]
        ipconfigs = [
            c.get("properties") or {}
            for nic in nics
            for c in (nic.get("properties") or {}).get("ipConfigurations") or []
        ]
        subnets = {c["subnet"]["id"] for c in ipconfigs if (c.get("subnet") or {}).get("id")}
        vnets = sorted({s.split("/subnets/")[0] for s in subnets})
        vnet_docs = [f.result() for f in [pool.submit(arm_get, v) for v in vnets]]
        nsgs = {((nic.get("properties") or {}).get("networkSecurityGroup") or {}).get("id") for nic in nics}
        for v in vnet_docs:
            for s in (v.get("properties") or {}).get("subnets") or []:
                nsgs.add(((s.get("properties") or {}).get("networkSecurityGroup") or {}).get("id"))
        nsg_docs = [f.result() for f in [pool.submit(arm_get, n) for n in sorted(x for x in nsgs if x)]]
        for f in others:
            f.result()
        return {
            "service": svc,
            "nodes": nodes,
            "slices": slices_f.result(),
            "pods": pods_f.result(),
            "lbs": lbs,
            "pips": pips_f.result(),
            "pls": pls_f.result(),
            "nics": nics,
            "vnets": vnet_docs,
            "nsgs": nsg_docs,
            "health": [f.result() for f in health_f],
        }


async def probe_http(host: str, port: int, path: str) -> int | str:
    try:
        async with asyncio.timeout(TIMEOUT):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            writer.close()
            return int(head.split(b" ", 2)[1])
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        return type(exc).__name__


async def probe_tcp(host: str, port: int) -> int | str:
    try:
        async with asyncio.timeout(TIMEOUT):
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            return "open"
    except (OSError, TimeoutError) as exc:
        return type(exc).__name__


async def round_(targets: list[str], spec: dict) -> list[int | str]:
    if spec["externalTrafficPolicy"] == "Local":
        port = spec["healthCheckNodePort"]
        return await asyncio.gather(*(probe_http(a, port, "/healthz") for a in targets))
    port = spec["ports"][0]["nodePort"]
    return await asyncio.gather(*(probe_tcp(a, port) for a in targets))


def main() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    everything = "--all" in sys.argv[1:]
    started = time.perf_counter()
    docs = fetch(everything)
    fetched = time.perf_counter()
    addresses = [
        next(a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP") for n in docs["nodes"]
    ]
    answers = asyncio.run(round_(addresses, docs["service"]["spec"]))
    probed = time.perf_counter()
    seen: dict[str, int] = {}
    for a in answers:
        seen[str(a)] = seen.get(str(a), 0) + 1
    sys.stdout.write(
        json.dumps(
            {
                "fetch": round(fetched - started, 4),
                "probe": round(probed - fetched, 4),
                "nodes": len(docs["nodes"]),
                "lbs": len(docs["lbs"]),
                "pips": len(docs["pips"]),
                **({k: len(docs[k]) for k in ("pods", "nics", "vnets", "nsgs", "health")} if everything else {}),
                "answers": seen,
            }
        )
        + "\n"
    )
    sys.stdout.flush()
    os._exit(0)  # as any short-lived tool may: no teardown of what the OS frees anyway


if __name__ == "__main__":
    main()
