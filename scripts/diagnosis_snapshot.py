"""Save ``explain -o json`` of every lab scenario, or compare a new run with a saved one.

A speed change must not change a diagnosis: run this before the change (``save``) and after it
(``compare``); the documents must be identical apart from what measures time (latencies, the
moments evidence was read or a probe was sent).

    python scripts/diagnosis_snapshot.py save /tmp/before
    python scripts/diagnosis_snapshot.py compare /tmp/before        # exit 1 and a diff when one differs
    python scripts/diagnosis_snapshot.py save /tmp/x --only local-http cluster-tcp

Parameterised scenarios run at a small size (``large:40``) so that the whole set takes minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

SIZES = {"large": "40", "large-local": "40"}
# Keys whose values measure time, not the diagnosis.
TIMING_KEYS = frozenset(
    {"latencyMs", "at", "observedAt", "generatedAt", "elapsedMs", "tookMs", "lastSeen", "firstSeen", "lastTimestamp"}
)  # the lab dates its events from the moment it starts
# Each lab leases its own 127.N.0.0/16 for the nodes and picks free ports for its servers.
_LAB_NET = re.compile(r"\b127\.\d{1,3}\.(\d{1,3}\.\d{1,3})\b")
_LAB_PORT = re.compile(r"\b(127\.0\.0\.1|localhost):\d+")


# An event's age in words ("last 61s ago"), which moves with the moment of the run.
_AGE = re.compile(r"\b\d+(?:\.\d+)?(s|m|h) ago\b")


def lab_neutral(text: str) -> str:
    text = _LAB_PORT.sub(r"\1:PORT", text)
    text = _AGE.sub(r"N\1 ago", text)
    return _LAB_NET.sub(r"127.N.\1", text)


def normal(text: str) -> str:
    """A saved or new output, scrubbed with the current rules (so older snapshots stay comparable)."""
    with contextlib.suppress(ValueError):
        text = json.dumps(scrub(json.loads(text)), indent=2, sort_keys=True) + "\n"
    return lab_neutral(text)


def scrub(doc):
    if isinstance(doc, dict):
        return {k: ("<time>" if k in TIMING_KEYS else scrub(v)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [scrub(v) for v in doc]
    return doc


def run(spec: str) -> tuple[int, str, str]:
    from akslbctl.lab.runner import Lab
    from akslbctl.lab.scenarios import build

    cluster = build(spec)
    ns, name = cluster.main_service.split("/")
    with Lab(cluster) as lab:
        env = {**os.environ, **lab.env, "COLUMNS": "200"}
        cmd = [sys.executable, "-m", "akslbctl", "explain", f"svc/{name}", "-n", ns, "-o", "json"]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=300)
    out = proc.stdout
    with contextlib.suppress(ValueError):  # not a document (an error): compared as text
        out = json.dumps(scrub(json.loads(out)), indent=2, sort_keys=True) + "\n"
    return proc.returncode, lab_neutral(out), lab_neutral(proc.stderr)


def specs(only: list[str] | None) -> list[str]:
    from akslbctl.lab.scenarios import names

    picked = only or names()
    return [f"{n}:{SIZES[n]}" if n in SIZES else n for n in picked]


def save(folder: Path, only: list[str] | None) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for spec in specs(only):
        code, out, err = run(spec)
        name = spec.split(":")[0]
        (folder / f"{name}.json").write_text(out)
        (folder / f"{name}.meta").write_text(f"exit {code}\n{err}")
        print(f"{spec:32} exit {code}", flush=True)
    return 0


def compare(folder: Path, only: list[str] | None) -> int:
    differ = 0
    for spec in specs(only):
        name = spec.split(":")[0]
        code, out, err = run(spec)
        want_out = normal((folder / f"{name}.json").read_text())
        want_meta = lab_neutral((folder / f"{name}.meta").read_text())
        out = normal(out)
        got_meta = f"exit {code}\n{err}"
        same = out == want_out and got_meta == want_meta
        print(f"{spec:32} exit {code}  {'same' if same else 'DIFFERS'}", flush=True)
        if not same:
            differ += 1
            for a, b, label in ((want_out, out, "json"), (want_meta, got_meta, "exit/stderr")):
                lines = list(difflib.unified_diff(a.splitlines(), b.splitlines(), "before", "after", lineterm=""))
                if lines:
                    print(f"--- {name} {label}")
                    print("\n".join(lines[:60]))
    print(f"\n{differ} scenario(s) differ")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["save", "compare"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--only", nargs="+", help="these scenarios only")
    args = parser.parse_args()
    return (save if args.action == "save" else compare)(args.folder, args.only)


if __name__ == "__main__":
    sys.exit(main())
