"""explain end to end on lab clusters of growing size, and start-up time, against a bare Python.

Each lab runs in its own process (``akslbctl lab up large:N``) so that the lab's servers do not share
an interpreter with the command being timed; each ``akslbctl`` run is a fresh process, as a user's is.

    python benchmarks/explain_bench.py                 # 100, 1,000 and 5,000 nodes, 5 runs each
    python benchmarks/explain_bench.py --sizes 1000 --runs 3

Targets (issue 2): 1,000 nodes ≤ 2 s; 5,000 nodes ≤ 3× the 1,000-node time; ``--help`` ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from labproc import start_lab, stop_lab


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr.decode(errors="replace"))
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
    return took, proc.returncode


def stats(samples: list[float]) -> str:
    return f"min {min(samples):6.3f} s   median {statistics.median(samples):6.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    exe = [sys.executable, "-m", "akslbctl"]
    console = os.path.join(os.path.dirname(sys.executable), "akslbctl")
    if os.path.exists(console):
        exe = [console]

    print("start-up (median of 15 runs, same moment, same machine)")
    base = [timed([sys.executable, "-c", "pass"])[0] for _ in range(15)]
    helps = [timed([*exe, "--help"])[0] for _ in range(15)]
    print(f"  python -c pass      {statistics.median(base) * 1000:6.1f} ms")
    print(f"  akslbctl --help     {statistics.median(helps) * 1000:6.1f} ms   (target ≤ 100 ms)")

    print("\nexplain svc/web -o json on lab clusters (Cluster policy, Tcp probe, every node probed)")
    medians = {}
    for size in args.sizes:
        lab, env = start_lab(f"large:{size}")
        try:
            timed([*exe, "explain", "svc/web", "-o", "json"], env)  # warm the page cache
            samples = [timed([*exe, "explain", "svc/web", "-o", "json"], env)[0] for _ in range(args.runs)]
            table = [timed([*exe, "explain", "svc/web"], env)[0] for _ in range(max(1, args.runs // 2))]
        finally:
            stop_lab(lab)
        medians[size] = statistics.median(samples)
        print(f"  {size:>6} nodes  json  {stats(samples)}   table  median {statistics.median(table):6.3f} s")
    if 1000 in medians:
        print(f"\n  1,000 nodes: {medians[1000]:.3f} s (target ≤ 2 s)")
        if 5000 in medians:
            print(f"  5,000 / 1,000: {medians[5000] / medians[1000]:.2f}× (target ≤ 3×)")


if __name__ == "__main__":
    main()
