"""Building a lab cluster's documents (``scenarios.build("large:N")``), against a bare loop in the same run.

The build makes every Node, EndpointSlice, NIC, the load balancer with its backend pool, and each
node's listeners (nodePort and kube-proxy's healthz) — what ``Lab`` serves, before any socket opens.
It runs in this process, as ``Lab`` runs it; the first build (imports) is not counted.

The floor is a bare loop of the same length that builds one small Node-shaped dict per node: the
ratio to it says how the build compares with the least any per-node work can cost on this machine at
this moment, so it stays comparable on a loaded or a slow machine where the seconds do not.

    python benchmarks/lab_build_bench.py                  # 1,000, 5,000 and 20,000 nodes, 5 runs each
    python benchmarks/lab_build_bench.py --sizes 5000 --runs 3

Target (was asserted by tests/integration/test_lab.py, now a figure here): large:5000 builds in ≤ 1 s,
and the build grows linearly with the node count.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from akslbctl.lab import scenarios  # noqa: E402

TARGET_5000 = 1.0  # seconds


def bare_loop(n: int) -> list[dict]:
    """The floor: one small Node-shaped dict per node, nothing else."""
    return [
        {
            "metadata": {"name": f"aks-nodepool1-12345678-vmss{i:06d}"},
            "status": {"addresses": [{"type": "InternalIP", "address": f"127.254.{i // 256}.{i % 256}"}]},
        }
        for i in range(n)
    ]


def build(n: int) -> int:
    cluster = scenarios.build(f"large:{n}")
    try:
        assert len(cluster.nodes) == n and len(cluster.listeners) == 2 * n
        return len(cluster.nodes)
    finally:
        cluster.release()


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} runs each (median; min in brackets)")

    build(10)  # imports and first-use costs, not counted
    medians: dict[int, float] = {}
    print(f"\n  {'nodes':>6}  {'bare loop':>17}  {'large:N build':>17}  {'per node':>9}  {'build / loop':>12}")
    for size in args.sizes:
        # interleaved, so that a change of load hits floor and build alike
        floor, took = [], []
        for _ in range(args.runs):
            floor += timed(lambda s=size: bare_loop(s), 1)
            took += timed(lambda s=size: build(s), 1)
        f, t = statistics.median(floor), statistics.median(took)
        medians[size] = t
        print(
            f"  {size:>6}  {f * 1000:7.1f} ms ({min(floor) * 1000:5.1f})"
            f"  {t * 1000:7.1f} ms ({min(took) * 1000:5.1f})"
            f"  {t / size * 1e6:6.1f} µs  {t / f:11.1f}×"
        )
    if 5000 in medians:
        print(f"\n  large:5000: {medians[5000]:.3f} s (target ≤ {TARGET_5000:g} s)")
    sizes = sorted(medians)
    if len(sizes) > 1:
        small, big = sizes[0], sizes[-1]
        print(
            f"  {big:,} / {small:,} nodes: {medians[big] / medians[small]:.2f}× the time "
            f"for {big / small:g}× the nodes (linear: {big / small:g}×)"
        )


if __name__ == "__main__":
    main()
