"""explain on realistic clusters against its floor, offline analysis and start-up against a bare
Python, peak memory — all in one run, on the same machine, at the same moment.

For each lab (``large-local:N``: Local policy, Http probe /healthz on the healthCheckNodePort;
``large:N``: Cluster policy, Tcp probe on the nodePort; Nodes as AKS writes them, ~4.8 KB each) in a
process of its own (``akslbctl lab up``), interleaved run by run so that machine noise hits each alike:

- **floor**: ``benchmarks/floor.py`` — a parallel raw fetch (stdlib http.client in threads) of the
  same Service, Nodes, EndpointSlices, LBs and PIPs from the same servers, then a bare asyncio round
  (one GET /healthz or one TCP handshake per node) against the same listeners (issue 14's floor, which
  the target is measured against);
- **floor, all evidence**: ``benchmarks/floor.py --all`` — the same, reading everything explain reads
  (pods, Events, /version, NetworkPolicies, Private Link services, the scale sets' NICs, VNets and
  NSGs, rule health): printed beside it, for what the added evidence costs any tool;
- ``akslbctl explain svc/web -o json`` and the table (``explain svc/web``), with their peak RSS;
- ``kubectl get nodes -o json`` and ``kubectl describe svc web`` when kubectl is installed.

Then, on a 3-node case file: ``explain -f`` and ``diff -f`` against ``python -c pass`` (and whether
that path imported the Kubernetes client or the Azure SDK), ``--help`` and a TAB.

    python benchmarks/explain_bench.py                       # 1,000 and 5,000 nodes, 5 runs each
    python benchmarks/explain_bench.py --sizes 1000 --runs 3 --scenarios large-local

Targets (issue 14): explain ≤ 1.5× the floor; offline ≤ 4× ``python -c pass``; peak RSS ≤ 150 MB at
1,000 nodes, ≤ 250 MB at 5,000; ``--help`` and TAB ≤ 3× ``python -c pass``. Medians are printed;
the load average of the machine is printed with them (other work on the CPUs moves every figure).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from labproc import start_lab, stop_lab

HERE = os.path.dirname(os.path.abspath(__file__))
SUBSCRIPTION = "8f3c2a1e-5b7d-4c9e-a0f1-2d3e4b5c6a7f"  # the lab's (akslbctl.lab.cluster.DEFAULT_SUBSCRIPTION)
RESOURCE_GROUP = "MC_rg_aks_westeurope"
RSS_TARGET_MB = {1000: 150, 5000: 250}
CPU: list[float] = []  # user+system seconds of each run_rss child, in order


def run(cmd: list[str], env: dict[str, str] | None = None, ok=(0, 1), quiet=False) -> tuple[float, float, str]:
    """(wall seconds, 0, stdout) of one fresh process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tempfile.gettempdir())
    out, err = proc.communicate()
    took = time.perf_counter() - started
    if proc.returncode not in ok:
        if not quiet:
            sys.stderr.write(err.decode(errors="replace")[-2000:])
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
    return took, 0.0, out.decode(errors="replace")


GNU_TIME = "/usr/bin/time"


def run_rss(cmd: list[str], env: dict[str, str] | None = None, ok=(0, 1)) -> tuple[float, float, str]:
    """As :func:`run`, with the child's own peak RSS and CPU time; stdout goes to a temporary file.

    Linux carries a process's peak RSS across exec from the memory it was forked with — this
    benchmark's own, which grows with the documents it parses — so the figure comes from GNU time,
    a small process that forks the command itself, when it is installed (else from wait4 here).
    """
    via_time = os.access(GNU_TIME, os.X_OK)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as rep:
        argv = [GNU_TIME, "-f", "%M %U %S", "-o", rep.name, *cmd] if via_time else cmd
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, cwd=tempfile.gettempdir())
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode not in ok:
            sys.stderr.write(err.read().decode(errors="replace")[-2000:])
            raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
        if via_time:
            kb, user, system = Path(rep.name).read_text().split()[-3:]
            rss, cpu = int(kb) / 1024, float(user) + float(system)
        else:
            rss, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
        CPU.append(cpu)
        return took, rss, out.read().decode(errors="replace")


def med(samples: list[float]) -> float:
    return statistics.median(samples)


def program() -> list[str]:
    console = os.path.join(os.path.dirname(sys.executable), "akslbctl")
    return [console] if os.path.exists(console) else [sys.executable, "-m", "akslbctl"]


def load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def lab_figures(scenario: str, size: int, runs: int, exe: list[str], kubectl: str | None) -> dict:
    lab, env = start_lab(f"{scenario}:{size}", program=exe)
    env = {**env, "FLOOR_SUBSCRIPTION": SUBSCRIPTION, "FLOOR_RESOURCE_GROUP": RESOURCE_GROUP, "COLUMNS": "120"}
    floor_cmd = [sys.executable, os.path.join(HERE, "floor.py")]
    explain = [*exe, "explain", "svc/web", "-n", "default"]
    floor_all = [*floor_cmd, "--all"]
    keys = ("floor", "fetch", "probe", "floor_all", "fetch_all", "probe_all", "json", "table", "rss", "rss_t")
    s: dict[str, list[float]] = {k: [] for k in keys}
    kube: dict[str, list[float]] = {}
    try:
        floor_doc = json.loads(run(floor_cmd, env)[2])
        if floor_doc["nodes"] != size:
            raise SystemExit(f"the floor saw {floor_doc['nodes']} nodes, not {size}")
        check = json.loads(run_rss([*explain, "-o", "json"], env)[2])  # warm caches, check the work
        probed = sum(1 for r in check["rules"] for n in r["nodes"] if n.get("observed"))
        for _ in range(runs):
            took, _, out = run(floor_cmd, env)
            doc = json.loads(out)
            s["floor"].append(took)
            s["fetch"].append(doc["fetch"])
            s["probe"].append(doc["probe"])
            took, _, out = run(floor_all, env)
            doc = json.loads(out)
            s["floor_all"].append(took)
            s["fetch_all"].append(doc["fetch"])
            s["probe_all"].append(doc["probe"])
            took, rss, _ = run_rss([*explain, "-o", "json"], env)
            s["json"].append(took)
            s["rss"].append(rss)
            s.setdefault("cpu", []).append(CPU[-1])
            took, rss, _ = run_rss(explain, env)
            s["table"].append(took)
            s["rss_t"].append(rss)
            if kubectl:
                for name, cmd in (
                    ("kubectl get nodes -o json", [kubectl, "get", "nodes", "-o", "json"]),
                    ("kubectl describe svc web", [kubectl, "describe", "svc", "web", "-n", "default"]),
                ):
                    try:
                        kube.setdefault(name, []).append(run(cmd, env, ok=(0,), quiet=True)[0])
                    except SystemExit:  # reported as n/a
                        kube[name] = []
    finally:
        stop_lab(lab)
    return {"samples": s, "kubectl": kube, "floor_doc": floor_doc, "probed": probed}


def offline_figures(runs: int, exe: list[str]) -> dict:
    folder = tempfile.mkdtemp(prefix="akslbctl-bench-case-")
    case = os.path.join(folder, "case.json")
    lab, env = start_lab("local-http", program=exe)
    try:
        run([*exe, "capture", "svc/web", "-n", "default", "-f", case], env)
    finally:
        stop_lab(lab)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "AKSLBCTL_"))}
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "explain -f case.json": [*exe, "explain", "-f", case],
        "explain -f case.json -o json": [*exe, "explain", "-f", case, "-o", "json"],
        "diff -f case.json": [*exe, "diff", "-f", case],
        "akslbctl --help": [*exe, "--help"],
        '__complete explain -o ""': [*exe, "__complete", "explain", "-o", ""],
    }
    samples: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(runs):
        for name, cmd in cases.items():
            samples[name].append(run(cmd, base_env)[0])
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['akslbctl', 'explain', '-f', sys.argv[1], '-o', 'json']\n"
        "import akslbctl.entry as e\n"
        "e.finish = lambda code: None\n"
        "import io, contextlib\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    e.main()\n"
        "mods = sorted({m.split('.')[0] + ('.' + m.split('.')[1] if m.startswith('azure.') and '.' in m else '')"
        " for m in sys.modules if m.startswith(('kubernetes', 'azure.', 'typer', 'pydantic', 'httpx', 'rich'))})\n"
        "sys.__stdout__.write(' '.join(mods) or 'none')\n"
    )
    imported = subprocess.run(
        [sys.executable, "-c", probe, case], env=base_env, capture_output=True, text=True, check=False
    ).stdout.strip()
    shutil.rmtree(folder, ignore_errors=True)
    return {"samples": samples, "imported": imported}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--scenarios", nargs="+", default=["large-local", "large"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--offline-runs", type=int, default=15)
    parser.add_argument("--no-offline", action="store_true")
    args = parser.parse_args()
    exe = program()
    # What pip install does: byte-compile the package, so that no run pays for compiling sources
    # (PYTHONDONTWRITEBYTECODE, set in some environments, would otherwise make every run compile).
    import compileall

    import akslbctl

    compileall.compile_dir(os.path.dirname(akslbctl.__file__), quiet=1)
    kubectl = shutil.which("kubectl")
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {load()} at start; medians of {args.runs} runs")
    policy = {"large-local": "Local, Http /healthz", "large": "Cluster, Tcp nodePort"}
    for scenario in args.scenarios:
        for size in args.sizes:
            f = lab_figures(scenario, size, args.runs, exe, kubectl)
            s = f["samples"]
            floor = med(s["floor"])
            print(f"\n{scenario}:{size} ({policy.get(scenario, scenario)}; {f['probed']} nodes probed) — {load()}")
            print(f"  explain -o json CPU time  {med(s['cpu']):7.3f} s (user + system)")
            print(
                f"  floor (process wall)      {floor:7.3f} s   fetch {med(s['fetch']):.3f} s + probe round "
                f"{med(s['probe']):.3f} s   answers {f['floor_doc']['answers']}"
            )
            floor_all = med(s["floor_all"])
            print(
                f"  floor, all evidence       {floor_all:7.3f} s   fetch {med(s['fetch_all']):.3f} s + probe round "
                f"{med(s['probe_all']):.3f} s"
            )
            for key, label in (("json", "explain -o json"), ("table", "explain (table)")):
                rss = med(s["rss"] if key == "json" else s["rss_t"])
                ratio = med(s[key]) / floor
                target = RSS_TARGET_MB.get(size)
                rss_goal = f" (≤ {target} MB {'ok' if rss <= target else 'MISSED'})" if target else ""
                print(
                    f"  {label:25} {med(s[key]):7.3f} s   {ratio:5.2f}× floor "
                    f"(≤ 1.5× {'ok' if ratio <= 1.5 else 'MISSED'}), {med(s[key]) / floor_all:4.2f}× the all-evidence "
                    f"floor   peak RSS {rss:6.1f} MB{rss_goal}"
                )
            for name, samples in f["kubectl"].items():
                if samples:
                    times = med(s["json"]) / med(samples)
                    print(f"  {name:25} {med(samples):7.3f} s   explain -o json is {times:5.2f}× this")
                else:
                    print(f"  {name:25}     n/a   (kubectl failed against the lab)")
    if args.no_offline:
        return
    o = offline_figures(args.offline_runs, exe)
    base = med(o["samples"]["python -c pass"])
    print(f"\noffline and start-up (medians of {args.offline_runs}) — {load()}")
    for name, samples in o["samples"].items():
        m = med(samples)
        goal = ""
        if name.startswith(("explain", "diff")):
            goal = f"(≤ 4× {'ok' if m <= 4 * base else 'MISSED'})"
        elif name != "python -c pass":
            goal = f"(≤ 3× {'ok' if m <= 3 * base else 'MISSED'})"
        print(f"  {name:30} {m * 1000:7.1f} ms   {m / base:5.2f}× pass {goal}")
    print(f"  client, CLI and terminal libraries explain -f -o json imported: {o['imported']}")


if __name__ == "__main__":
    main()
