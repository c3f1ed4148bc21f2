"""One ``probe`` round over N nodes, end to end through the pipeline, against a lab in another process.

For each lab (``large:N``: Tcp probe on a nodePort; ``large-local:N``: Http probe /healthz on the
healthCheckNodePort, 9 in 10 nodes answering 200, the rest 503) this script

1. starts ``akslbctl lab up`` in its own process, so the lab's servers do not share an interpreter
   (or its GIL) with what is timed;
2. collects the evidence once (``load_case``), plans once (``Watch``), then times each round as
   ``probe`` runs it: every probe, the LB state machine, Azure's view joined in, and the round's JSON
   Lines document serialised — round 1 includes the httpx import and the wait for ARM's rule health,
   the later rounds are the steady state;
3. times the whole command once, as a user runs it: ``akslbctl probe svc/web --count 1 -o json`` in a
   fresh process (start-up, Kubernetes, ARM, one round).

It then runs ``benchmarks/probe_bench.py`` for the raw prober's figures on the same machine, as the
baseline the rounds are built on.

    python benchmarks/probe_round_bench.py                  # 5,000 nodes, 5 rounds
    python benchmarks/probe_round_bench.py --nodes 1000 --rounds 3 --no-baseline

Targets (issue 4): a round over 5,000 nodes ≤ 0.5 s for Tcp probes, ≤ 2 s for Http probes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from labproc import start_lab, stop_lab

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = {"Tcp": 0.5, "Http": 2.0}




def rounds_in_process(env: dict[str, str], rounds: int) -> tuple[str, list[float], list[float], int, int]:
    """(probe protocol, seconds per round, probe-only seconds per round, members, members up)."""
    from akslbctl.azurehealth import AzureOptions
    from akslbctl.cli.common import Connection, load_case
    from akslbctl.render.live import round_doc
    from akslbctl.watch import Watch, WatchOptions

    os.environ.update(env)
    case = load_case(["svc/web"], Connection(), command="probe")
    watch = Watch(case, WatchOptions(count=rounds, interval=0.0, azure=AzureOptions()))
    protocol = watch.plan.probes[0].probe.protocol
    wall, probing = [], []
    members = up = 0
    for number in range(1, rounds + 1):
        started = time.perf_counter()
        rnd = watch.run_round(number)
        line = json.dumps(round_doc(watch.plan, rnd), ensure_ascii=False, separators=(",", ":"))
        wall.append(time.perf_counter() - started)
        probing.append(rnd.elapsed_ms / 1000)
        members = sum(len(p.nodes) for p in rnd.probes)
        up = sum(p.up for p in rnd.probes)
        assert line.startswith('{"apiVersion"')
    return protocol, wall, probing, members, up


def whole_command(env: dict[str, str]) -> float:
    exe = [sys.executable, "-m", "akslbctl"]
    started = time.perf_counter()
    proc = subprocess.run(
        [*exe, "probe", "svc/web", "--count", "1", "-o", "json"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    took = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr.decode(errors="replace"))
        raise SystemExit(f"probe exited {proc.returncode}")
    return took


def child(spec: str, rounds: int) -> None:
    """Run in a fresh interpreter per lab, so the first round's one-time costs are measured honestly."""
    proc, env = start_lab(spec)
    try:
        protocol, wall, probing, members, up = rounds_in_process(env, rounds)
        command = whole_command(env)
    finally:
        stop_lab(proc)
    print(
        json.dumps(
            {"protocol": protocol, "wall": wall, "probing": probing, "members": members, "up": up, "command": command}
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-baseline", action="store_true", help="skip benchmarks/probe_bench.py")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rounds)
        return 0

    print(f"probe rounds, {args.nodes} nodes, python {sys.version.split()[0]}, cpus {os.cpu_count()}")
    print(
        f"{'lab':22} {'probe':5} {'round 1 s':>9} {'steady min s':>12} {'steady median s':>15} "
        f"{'probes only s':>13} {'up/members':>11} {'target':>7}  whole command"
    )
    failed = False
    for spec in (f"large:{args.nodes}", f"large-local:{args.nodes}"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", spec, "--rounds", str(args.rounds)],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        steady = r["wall"][1:] or r["wall"]
        target = TARGETS.get(r["protocol"], 2.0)
        median = statistics.median(steady)
        failed |= median > target
        mark = f"≤ {target:g} s" + ("" if median <= target else " MISSED")
        print(
            f"{spec:22} {r['protocol']:5} {r['wall'][0]:9.3f} {min(steady):12.3f} {median:15.3f} "
            f"{statistics.median(r['probing'][1:] or r['probing']):13.3f} {r['up']:>5}/{r['members']:<5} "
            f"{mark:>7}  {r['command']:.2f} s (start-up, Kubernetes, ARM, 1 round)"
        )
    if not args.no_baseline:
        print("\nbaseline: the raw prober (benchmarks/probe_bench.py), same machine")
        sys.stdout.flush()
        rc = subprocess.run(
            [
                sys.executable,
                os.path.join(HERE, "probe_bench.py"),
                "--nodes",
                str(args.nodes),
                "--repeat",
                "3",
                "--baseline-repeat",
                "0",
            ],
            check=False,
        ).returncode
        failed |= rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
