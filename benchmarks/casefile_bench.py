"""Loading case files and dump folders of large clusters: read + parse + normalise into a Case.

The documents come from the lab's builder, padded to the size of real AKS Nodes (images, capacity,
annotations: ~10 KiB each as ``kubectl get nodes -o json`` prints them), written once to a temporary
folder — a case file as ``capture`` writes it (Nodes without their image lists) and a folder of raw
dumps as a customer sends it (image lists included); each run loads them from disk in this process.

    python benchmarks/casefile_bench.py                  # 1,000 and 5,000 nodes, 5 runs each
    python benchmarks/casefile_bench.py --sizes 5000 --runs 3

Target (issue 5): a 5,000-node case loads in well under a second. Also timed, for reference: the
offline analysis (explain -f without rendering) and --redact over the same document.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from akslbctl.lab.cluster import AksBuilder  # noqa: E402
from akslbctl.pipeline import ProbeOptions  # noqa: E402
from akslbctl.pipeline import explain as run_explain  # noqa: E402
from akslbctl.sources import casefile  # noqa: E402
from akslbctl.sources.casefile import Scope  # noqa: E402
from akslbctl.sources.redact import redact  # noqa: E402


def realistic(node: dict, i: int) -> dict:
    """A lab Node with what a real AKS Node also carries, so the bytes per node are realistic."""
    node = copy.deepcopy(node)
    node["metadata"]["annotations"] = {
        "csi.volume.kubernetes.io/nodeid": json.dumps(
            {"disk.csi.azure.com": node["metadata"]["name"], "file.csi.azure.com": node["metadata"]["name"]}
        ),
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
    }
    status = node["status"]
    status["capacity"] = {"cpu": "4", "ephemeral-storage": "129886128Ki", "memory": "16375836Ki", "pods": "110"}
    status["allocatable"] = {"cpu": "3860m", "ephemeral-storage": "119703055367", "memory": "12880412Ki", "pods": "110"}
    status["daemonEndpoints"] = {"kubeletEndpoint": {"Port": 10250}}
    status["images"] = [
        {
            "names": [
                f"mcr.microsoft.com/oss/kubernetes/image-{k}@sha256:{(i * 31 + k) % 10**12:064d}",
                f"mcr.microsoft.com/oss/kubernetes/image-{k}:v1.{k}.0",
            ],
            "sizeBytes": 10_000_000 + k,
        }
        for k in range(30)
    ]
    return node


def build(size: int, folder: str) -> tuple[str, str, str]:
    b = AksBuilder(nodes=size)
    b.add_service("web", ports=[{"port": 80, "nodePort": 31080}], policy="Local", health_check_node_port=32649)
    c = b.build()
    try:
        nodes = [realistic(n, i) for i, n in enumerate(c.nodes)]
        svc = c.service("default/web")
        probes = [
            {
                "node": n["metadata"]["name"],
                "target": f"http://{c.address_of(i)}:32649/healthz",
                "outcome": "ok",
                "status": 200,
                "latencyMs": 1.5,
                "localEndpoints": 1,
                "at": "2025-01-31T12:00:00.000Z",
            }
            for i, n in enumerate(c.nodes)
        ]
        doc = {
            "apiVersion": casefile.API_VERSION,
            "kind": casefile.KIND,
            "akslbctl": "bench",
            "capturedAt": "2025-01-31T12:00:00Z",
            "clusterVersion": {"gitVersion": c.kubernetes_version},
            "subscription": c.subscription,
            "resourceGroup": c.node_resource_group,
            "service": svc,
            "nodes": [casefile.scrub(n) for n in nodes],  # as capture writes them: no image lists
            "endpointSlices": c.endpointslices,
            "loadBalancers": c.load_balancers,
            "publicIPAddresses": c.public_ips,
            "probes": probes,
        }
        case_path = os.path.join(folder, f"case-{size}.json")
        casefile.write_document(case_path, doc)
        dumps = os.path.join(folder, f"dumps-{size}")
        os.mkdir(dumps)
        for name, content in (
            ("service.json", svc),
            ("nodes.json", {"apiVersion": "v1", "kind": "List", "items": nodes}),
            ("endpointslices.json", {"apiVersion": "v1", "kind": "List", "items": c.endpointslices}),
            ("loadbalancers.json", c.load_balancers),
            ("publicips.json", c.public_ips),
            ("version.json", {"serverVersion": {"gitVersion": c.kubernetes_version}}),
        ):
            with open(os.path.join(dumps, name), "w") as f:
                json.dump(content, f)
        return case_path, dumps, c.subscription
    finally:
        c.release()


def timed(fn, runs: int) -> tuple[list[float], object]:
    samples, value = [], None
    for _ in range(runs):
        started = time.perf_counter()
        value = fn()
        samples.append(time.perf_counter() - started)
    return samples, value


def stats(samples: list[float]) -> str:
    return f"min {min(samples):6.3f} s   median {statistics.median(samples):6.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {args.runs} runs each")
    with tempfile.TemporaryDirectory(prefix="akslbctl-casefile-bench-") as folder:
        for size in args.sizes:
            case_path, dumps, _ = build(size, folder)
            mib = os.path.getsize(case_path) / (1024 * 1024)
            print(f"\n{size:,} nodes: case file {mib:.1f} MiB")
            samples, case = timed(lambda p=case_path: casefile.load(p), args.runs)
            print(f"  load case file            {stats(samples)}")
            samples, _ = timed(lambda d=dumps: casefile.load(d, Scope(name="web")), args.runs)
            print(f"  load dump folder          {stats(samples)}")
            samples, result = timed(lambda c=case: run_explain(c, ProbeOptions(enabled=False)), args.runs)
            up = result[1].rules[0].up if result[1].rules else 0
            print(f"  analyse (explain -f)      {stats(samples)}   ({up:,} nodes up)")
            with open(case_path, "rb") as f:
                doc = json.loads(f.read())
            samples, _ = timed(lambda d=doc: redact(d), max(1, args.runs // 2))
            print(f"  --redact the document     {stats(samples)}")


if __name__ == "__main__":
    main()
