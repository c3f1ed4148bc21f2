"""Start-up cost of what a user waits for at every TAB, and of ``--help``, against a bare Python.

Each figure is the median of many fresh processes, interleaved so that machine noise hits every case
alike. API-backed completion runs against a lab (``akslbctl lab up multi-service``, in its own
process): "warm" answers from the on-disk cache filled by a first call, "cold" empties the cache
before every call (kubeconfig, the kubernetes client's import and one list request).

    python benchmarks/startup_bench.py                       # this interpreter's akslbctl, 31 runs
    python benchmarks/startup_bench.py --python /tmp/bench/bin/python --runs 51

An editable install (pip install -e) adds a .pth import hook that costs ~10 ms on every start; for
figures users will see, point --python at a normal install (docs/development.md says how). The
script says which kind of install it timed.

Targets (issue 6): TAB for commands/flags/values ≤ 3× ``python -c pass``; ``--help`` ≤ 100 ms;
API-backed TAB with a warm cache ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from labproc import start_lab, stop_lab


def program(python: str) -> list[str]:
    """The ``akslbctl`` console script next to the interpreter (what a shell runs), else ``-m``."""
    script = Path(python).parent / "akslbctl"
    return [str(script)] if script.exists() else [python, "-m", "akslbctl"]


def install_kind(python: str) -> str:
    code = (
        "import importlib.metadata as m, json\n"
        "d = m.distribution('akslbctl')\n"
        "u = json.loads(d.read_text('direct_url.json') or '{}')\n"
        "print('editable' if u.get('dir_info', {}).get('editable') else 'normal', d.locate_file(''))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False, cwd=tempfile.gettempdir())
    return out.stdout.strip() or "unknown"


def run_once(cmd: list[str], env: dict[str, str], before=None) -> float:
    if before is not None:
        before()
    started = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False, cwd=tempfile.gettempdir()
    )
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{shlex.join(cmd)} exited {proc.returncode}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter whose akslbctl to time")
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--json", action="store_true", help="print the medians as JSON too")
    args = parser.parse_args()

    exe = program(args.python)
    cache = tempfile.mkdtemp(prefix="akslbctl-bench-cache-")
    lab, lab_env = start_lab("multi-service", program=program(args.python), cwd=tempfile.gettempdir())
    try:
        base_env = {**os.environ, "XDG_CACHE_HOME": cache}
        lab_env = {**lab_env, "XDG_CACHE_HOME": cache}

        def clear_cache() -> None:
            shutil.rmtree(os.path.join(cache, "akslbctl"), ignore_errors=True)

        # (name, command, environment, run before each, target in ms or a multiple of `pass`)
        cases = [
            ("python -c pass", [args.python, "-c", "pass"], base_env, None, None),
            ("akslbctl --help", [*exe, "--help"], base_env, None, 100.0),
            ("akslbctl explain --help", [*exe, "explain", "--help"], base_env, None, 100.0),
            ("explain svc/x --help (typer)", [*exe, "explain", "svc/x", "--help"], base_env, None, None),
            ('__complete "" (subcommands)', [*exe, "__complete", ""], base_env, None, "3x"),
            ("__complete explain -- (flags)", [*exe, "__complete", "explain", "--"], base_env, None, "3x"),
            ('__complete explain -o ""', [*exe, "__complete", "explain", "-o", ""], base_env, None, "3x"),
            ('__complete explain --context ""', [*exe, "__complete", "explain", "--context", ""], lab_env, None, 300.0),
            ('__complete explain "" (warm cache)', [*exe, "__complete", "explain", ""], lab_env, None, 300.0),
            ('__complete explain "" (cold)', [*exe, "__complete", "explain", ""], lab_env, clear_cache, None),
        ]
        # Fill the cache, and check that the API-backed case finds the lab's Services.
        warm = next(c for c in cases if c[0].endswith("(warm cache)"))
        probe = subprocess.run(warm[1], env=lab_env, capture_output=True, text=True, check=False, cwd=cache)
        if "svc/web" not in probe.stdout:
            raise SystemExit(f"completion against the lab found nothing: {probe.stdout!r}")
        samples: dict[str, list[float]] = {name: [] for name, *_ in cases}
        for _ in range(args.runs):
            for name, cmd, env, before, _target in cases:
                samples[name].append(run_once(cmd, env, before) * 1000)
    finally:
        stop_lab(lab)
        shutil.rmtree(cache, ignore_errors=True)

    base = statistics.median(samples["python -c pass"])
    print(f"akslbctl install: {install_kind(args.python)}")
    print(f"{args.runs} runs each, median ms; {os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n")
    print(f"| {'what':36} | {'median':>8} | {'× pass':>6} | target          |")
    print(f"|{'-' * 38}|{'-' * 10}|{'-' * 8}|-----------------|")
    medians = {}
    for name, *_rest, target in cases:
        med = statistics.median(samples[name])
        medians[name] = round(med, 1)
        if target is None:
            goal = "—"
        elif target == "3x":
            goal = f"≤ {3 * base:.0f} ms (3× pass) {'ok' if med <= 3 * base else 'MISSED'}"
        else:
            goal = f"≤ {target:.0f} ms {'ok' if med <= target else 'MISSED'}"
        print(f"| {name:36} | {med:8.1f} | {med / base:6.2f} | {goal:15} |")
    if args.json:
        print(json.dumps(medians))


if __name__ == "__main__":
    main()
