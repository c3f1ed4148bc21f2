"""How long one probe round over N nodes takes: akslbctl's prober against plain httpx.

Starts N simulated nodes (``NodeListeners``, kube-proxy-style health answers) in a separate process,
so the prober's CPU is measured on its own, then times ``probe_all`` for TCP and HTTP rounds and, as
a baseline, the same HTTP round through httpx's default transport.

    python benchmarks/probe_bench.py [--nodes 5000] [--repeat 5] [--concurrency 512] [--baseline-repeat 1]

Targets (contract: a round over 5,000 nodes must stay interactive): TCP ≤ 0.5 s, HTTP ≤ 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time

PORT = 10256
TCP_TARGET_S = 0.5
HTTP_TARGET_S = 2.0


def node_address(i: int, second_octet: int) -> str:
    return f"127.{second_octet}.{i // 250}.{i % 250 + 1}"


# ------------------------------------------------------------------------------------------------
# the node side (child process)


def serve(nodes: int, second_octet: int) -> None:
    """Serve ``nodes`` kube-proxy-like health listeners until stdin closes."""
    from akslbctl.lab.behaviours import Http, ListenerSpec, Reply
    from akslbctl.lab.nodes import NodeListeners

    body = json.dumps(
        {"service": {"namespace": "default", "name": "web"}, "localEndpoints": 1, "serviceProxyHealthy": True},
        indent=2,
    ).encode()
    healthy = Http(default=Reply(200, body))

    async def main() -> None:
        lab = NodeListeners()
        started = time.perf_counter()
        await lab.start(ListenerSpec(node_address(i, second_octet), PORT, healthy) for i in range(nodes))
        elapsed = time.perf_counter() - started
        print(f"ready {elapsed:.3f}", flush=True)
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        loop.add_reader(sys.stdin.fileno(), lambda: done.done() or done.set_result(None))
        await done
        await lab.stop()

    asyncio.run(main())


# ------------------------------------------------------------------------------------------------
# the prober side


async def httpx_default_round(urls: list[str], concurrency: int, timeout: float) -> int:
    """The same HTTP round through httpx's default transport (pool sized to the semaphore)."""
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=0)
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(verify=False, trust_env=False, limits=limits, timeout=timeout) as client:

        async def one(url: str) -> bool:
            async with semaphore:
                try:
                    response = await client.get(url)
                except httpx.HTTPError:
                    return False
                return response.status_code == 200

        return sum(await asyncio.gather(*(one(u) for u in urls)))


def timed(fn, repeat: int) -> tuple[list[float], object]:
    times, last = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        last = fn()
        times.append(time.perf_counter() - started)
    return times, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline-repeat", type=int, default=1, help="0 skips the httpx baseline")
    parser.add_argument("--concurrency", type=int, default=512)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--second-octet", type=int, default=77, help="nodes live on 127.<this>.x.y")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.nodes, args.second_octet)
        return 0

    from akslbctl.model.probe import OK, ProbeTarget
    from akslbctl.probing.runner import probe_all, raise_nofile_limit

    raise_nofile_limit(args.concurrency + 1024)
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--nodes", str(args.nodes), "--second-octet", str(args.second_octet)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = child.stdout.readline().split()
        if not line or line[0] != "ready":
            print("the node process did not start", file=sys.stderr)
            return 1
        addresses = [node_address(i, args.second_octet) for i in range(args.nodes)]
        tcp = [ProbeTarget(a, PORT, "Tcp") for a in addresses]
        http = [ProbeTarget(a, PORT, "Http", "/healthz") for a in addresses]

        def round_of(targets):
            results = probe_all(targets, timeout=args.timeout, concurrency=args.concurrency)
            return sum(r.outcome == OK for r in results.values())

        rows = []
        tcp_times, tcp_ok = timed(lambda: round_of(tcp), args.repeat)
        rows.append(("akslbctl Tcp", tcp_times, tcp_ok, TCP_TARGET_S))
        http_times, http_ok = timed(lambda: round_of(http), args.repeat)
        rows.append(("akslbctl Http", http_times, http_ok, HTTP_TARGET_S))
        if args.baseline_repeat > 0:
            urls = [f"http://{a}:{PORT}/healthz" for a in addresses]
            base_times, base_ok = timed(
                lambda: asyncio.run(httpx_default_round(urls, args.concurrency, args.timeout)),
                args.baseline_repeat,
            )
            rows.append(("httpx default transport Http", base_times, base_ok, None))
    finally:
        child.stdin.close()
        child.wait(timeout=30)

    print(
        f"nodes: {args.nodes}  concurrency: {args.concurrency}  listeners started in {line[1]} s  "
        f"python {sys.version.split()[0]}  cpus: {os.cpu_count()}"
    )
    print(f"{'round':30} {'runs':>4} {'min s':>7} {'median s':>9} {'ok':>6} {'target':>8}")
    failed = False
    for name, times, ok, target in rows:
        best, median = min(times), statistics.median(times)
        verdict = "" if target is None else (f"≤ {target:g} s" + ("" if median <= target else "  MISSED"))
        failed |= target is not None and median > target
        failed |= ok != args.nodes
        print(f"{name:30} {len(times):>4} {best:>7.3f} {median:>9.3f} {ok:>6} {verdict:>8}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
